"""The hf backend's continuous-batching loop on the real embedded model."""

from __future__ import annotations

import pytest

from harness.records import Request, SamplingParams, content_key

pytestmark = pytest.mark.model

TOPICS = ["the sea", "rain", "an old clock that has stopped at midnight in an empty house",
          "春天", "a kite", "the first snow of a long and quiet winter", "bread", "大海的声音"]


@pytest.fixture(scope="module")
def path():
    from harness.backends.models import resolve

    return resolve("smollm2-135m")


@pytest.fixture(scope="module")
def backend(path):
    from harness.backends.hf import HFBackend

    return HFBackend(path)


def requests(params: list[SamplingParams]) -> list[Request]:
    out = []
    for topic in TOPICS:
        for j, p in enumerate(params):
            chat = (("user", f"Write a short poem about {topic}."),)
            key = content_key({"t": topic, "p": j})
            out.append(Request(key=key, model="m", messages=chat, params=p,
                               sample_index=0, seed=1000 + 7 * len(out)))
    return out


def test_greedy_rows_match_transformers_generate_one_prompt_at_a_time(backend, path):
    """Prompts of different lengths, 3 rows at a time (so rows leave, waiting ones are
    prefilled and merged, columns are trimmed), each with its own token limit: every row
    equals an unbatched greedy ``model.generate`` of the same prompt."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path).eval()
    tok = backend.tokenizer
    reqs = [Request(key=str(i), model="m", messages=(("user", f"Describe {t}."),),
                    params=SamplingParams(temperature=0.0, max_tokens=12 + 5 * i),
                    sample_index=0, seed=i)
            for i, t in enumerate(TOPICS)]
    backend.batch_size = 3
    try:
        got = {g.key: g for g in backend.generate(reqs)}
    finally:
        backend.batch_size = 64
    for r in reqs:
        enc = tok(backend.render(r.chat), return_tensors="pt", add_special_tokens=False)
        with torch.inference_mode():
            out = model.generate(**enc, do_sample=False, max_new_tokens=r.params.max_tokens,
                                 pad_token_id=tok.eos_token_id)
        new = out[0, enc["input_ids"].shape[1]:].tolist()
        if tok.eos_token_id in new:
            new = new[: new.index(tok.eos_token_id)]
        g = got[r.key]
        assert g.text == tok.decode(new, skip_special_tokens=True), r.key
        assert g.completion_tokens == len(new) <= r.params.max_tokens
        assert g.finish_reason == ("length" if len(new) == r.params.max_tokens else "stop")


def test_a_requests_text_does_not_depend_on_its_batch_mates(backend):
    """Mixed sampling parameters (top-p, min-p, top-k with a repetition penalty, greedy,
    pure temperature) and token limits, so rows finish at different steps, until one row
    (a longer limit) decodes alone: the same texts whether 64 rows, 3 rows (in reverse
    order) or one row decode together. The products behind it run on whole 16-row blocks
    (harness/backends/rows.py; tests/backends/test_rows.py checks the kernels of this
    machine): a 1-row or 3-row product takes another float32 kernel on some CPUs (issue
    29: an Intel Xeon changed one of these 40 texts)."""
    params = [SamplingParams(temperature=0.8, top_p=0.95, max_tokens=40),
              SamplingParams(temperature=1.3, min_p=0.05, max_tokens=24),
              SamplingParams(temperature=0.7, top_k=40, repetition_penalty=1.2,
                             max_tokens=32),
              SamplingParams(temperature=0.0, max_tokens=16),
              SamplingParams(temperature=1.0, max_tokens=8)]
    reqs = requests(params)
    last = Request(key="last", model="m", messages=(("user", "Tell a long story about "
                                                     "a lighthouse keeper."),),
                   params=SamplingParams(temperature=0.9, top_p=0.9, max_tokens=64),
                   sample_index=0, seed=5)
    reqs.append(last)
    texts, tokens = {}, {}
    for rows, order in ((64, reqs), (3, reqs[::-1])):
        backend.batch_size = rows
        gens = list(backend.generate(order))
        texts[rows] = {g.key: g.text for g in gens}
        tokens[rows] = {g.key: g.completion_tokens for g in gens}
    backend.batch_size = 1
    alone = {g.key: g.text for r in [*reqs[::7], last] for g in backend.generate([r])}
    backend.batch_size = 64
    # the last row decoded alone for its last steps, in both batched runs
    others = max(n for k, n in tokens[64].items() if k != "last")
    assert tokens[64]["last"] > others + 8, (tokens[64]["last"], others)
    different = sorted(k for k in texts[64] if texts[64][k] != texts[3][k])
    assert not different, [(texts[64][k], texts[3][k]) for k in different]
    assert alone == {k: texts[64][k] for k in alone}
    assert len(set(texts[64].values())) > len(reqs) * 0.8  # real sampling, not one text


def test_bfloat16_loads_and_its_keys_differ(path, tmp_path):
    """bfloat16 decodes sound text, and the plan keys its requests apart from float32's
    (its texts differ, so the store must not mix them)."""
    from harness.backends.hf import HFBackend
    from harness.suite.load import load_suite
    from harness.suite.plan import plan

    b = HFBackend(path, dtype="bfloat16")
    [g] = list(b.generate(requests([SamplingParams(temperature=0.0, max_tokens=16)])[:1]))
    assert g.completion_tokens > 3 and g.text.strip()
    (tmp_path / "s.yaml").write_text("name: t\nprompts: [{id: a, template: hi}]\n"
                                     "inputs: [{id: x}]\nsamples: 1\n")
    suite = load_suite(tmp_path / "s.yaml")
    keys32 = {r.key for r in plan(suite)}
    keys16 = {r.key for r in plan(suite, dtype="bfloat16")}
    assert keys32.isdisjoint(keys16)
    assert keys32 == {r.key for r in plan(suite, backend="hf", dtype="float32")}
