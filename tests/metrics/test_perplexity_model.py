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
    from harness.backends.models import resolve

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


def direct_nll(model, tokenizer, messages, text):
    """Total NLL and token count of ``text`` given ``messages`` by one forward pass (a
    text without a prompt is scored after the BOS/EOS start token)."""
    import torch

    if messages:
        prompt = tokenizer.apply_chat_template(messages, tokenize=False,
                                               add_generation_prompt=True)
        p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    else:
        p_ids = [tokenizer.bos_token_id if tokenizer.bos_token_id is not None
                 else tokenizer.eos_token_id]
    t_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    ids = p_ids + t_ids
    with torch.inference_mode():
        logits = model(torch.tensor([ids])).logits[0].double()
    logprobs = torch.log_softmax(logits[:-1], dim=-1)
    return -sum(float(logprobs[j - 1, ids[j]]) for j in range(len(p_ids), len(ids))), len(t_ids)


def test_an_input_pools_perplexity_by_tokens(tmp_path):
    """Token-weighted: exp(total NLL / total tokens) over the input's samples, checked
    against direct forward passes; also through `harness score --scorer` on texts without
    a prompt (which used to end in a traceback)."""
    import json
    import subprocess
    import sys

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.backends.hf import HFBackend
    from harness.backends.models import resolve
    from harness.metrics import score_samples
    from harness.summarize.cells import summarize

    path = resolve("smollm2-135m")
    texts = ["The sea is calm and blue tonight, and the boats sleep in the harbour.",
             "zq xv plk", "Hi"]  # a long fluent line, nonsense, a 1-token reply
    msgs = [{"role": "user", "content": "Write one sentence about the sea."}]
    contexts = [SampleContext(messages=msgs, prompt_text=msgs[0]["content"])] * 3
    scores = score_samples(["perplexity", "scored_tokens"], texts, contexts,
                           Resources(scorer=HFBackend(path, batch_size=2)))
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    nll_tok = [direct_nll(model, tokenizer, msgs, t) for t in texts]
    assert scores["scored_tokens"] == [float(n) for _, n in nll_tok]
    weighted = math.exp(sum(a for a, _ in nll_tok) / sum(n for _, n in nll_tok))
    items = [{"key": f"k{i}", "variant": "v", "input_id": "sea", "cell": "v", "grid": {}}
             for i in range(3)]
    sample = {f"k{i}": {m: scores[m][i] for m in scores} for i in range(3)}
    ppl = summarize({"id": "r"}, items, sample, {})["cells"][0]["metrics"]["perplexity"]
    assert math.log(ppl["inputs"]["sea"]) == pytest.approx(math.log(weighted), abs=1e-4)
    assert ppl["mean"] < sum(scores["perplexity"]) / 3  # not the mean of perplexities

    file = tmp_path / "t.jsonl"
    file.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "harness.cli", "score", str(file), "--metrics",
                          "perplexity", "--scorer", "smollm2-135m", "--json"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    no_prompt = [direct_nll(model, tokenizer, [], t) for t in texts]
    want = math.exp(sum(a for a, _ in no_prompt) / sum(n for _, n in no_prompt))
    got = json.loads(out.stdout)["all"]["perplexity"]
    assert math.log(got) == pytest.approx(math.log(want), abs=1e-4)
