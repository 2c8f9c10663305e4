"""Perplexity through the real HF backend vs a direct transformers forward pass."""

from __future__ import annotations

import math

import pytest

from harness.metrics import Resources, SampleContext, score_samples

pytestmark = pytest.mark.model

PROMPTS = [
    [{"role": "user", "content": "Write one sentence about the sea."}],
    [
        {"role": "system", "content": "You are a poet."},
        {"role": "user", "content": "写一句关于春天的诗。"},
    ],
    [{"role": "user", "content": "Say hi."}],
]
TEXTS = ["The sea is calm and blue tonight.", "春风吹过，花开满园。", "Hi"]


def direct_perplexity(model, tokenizer, messages, text):
    import torch

    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = tokenizer(prompt + text, add_special_tokens=False)["input_ids"]
    assert ids[: len(p_ids)] == p_ids  # the text's tokens start right after the prompt's
    with torch.inference_mode():
        logits = model(torch.tensor([ids])).logits[0].double()
    logprobs = torch.log_softmax(logits[:-1], dim=-1)
    text_lp = [float(logprobs[j - 1, ids[j]]) for j in range(len(p_ids), len(ids))]
    return math.exp(-sum(text_lp) / len(text_lp))


def test_perplexity_through_hf_backend_matches_direct_forward():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.backends.hf import HFBackend
    from harness.models import resolve

    path = resolve("smollm2-135m")
    backend = HFBackend(path, batch_size=2)  # batches of two: padding is exercised
    contexts = [SampleContext(messages=m, prompt_text=m[-1]["content"]) for m in PROMPTS]
    got = score_samples(["perplexity"], TEXTS, contexts, Resources(scorer=backend))["perplexity"]

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    expected = [
        direct_perplexity(model, tokenizer, m, t) for m, t in zip(PROMPTS, TEXTS, strict=True)
    ]
    for g, e in zip(got, expected, strict=True):
        assert math.log(g) == pytest.approx(math.log(e), abs=1e-4)  # mean NLL within 1e-4
    assert all(1.0 < g < 1e4 for g in got)
