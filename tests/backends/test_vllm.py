"""The vllm backend end to end on the embedded model (one engine for the whole module)."""

from __future__ import annotations

import os

import pytest

from harness.records import Request, SamplingParams, content_key

pytest.importorskip("vllm")

pytestmark = pytest.mark.vllm

CHATS = [
    (("user", "Write one sentence about the sea."),),
    (("system", "You are a terse poet."), ("user", "A haiku about autumn, please.")),
]


def requests_for(chat, params: SamplingParams, samples: int, seed0: int) -> list[Request]:
    out = []
    for i in range(samples):
        key = content_key({"chat": chat, "params": params.as_dict(), "sample": i})
        out.append(Request(key=key, model="smollm2-135m", messages=chat, params=params,
                           sample_index=i, seed=seed0 + 97 * i))
    return out


@pytest.fixture(scope="module")
def backend(model_path):
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    from harness.backends.vllm import VLLMBackend

    b = VLLMBackend(model_path, enforce_eager=True)  # no torch.compile warm-up
    yield b
    b.close()


@pytest.fixture(scope="module")
def hf(model_path):
    from harness.backends.hf import HFBackend

    b = HFBackend(model_path, batch_size=8)
    yield b
    b.close()


def workload() -> list[Request]:
    warm = SamplingParams(temperature=0.9, top_p=0.95, max_tokens=24)
    picky = SamplingParams(temperature=0.7, top_k=20, min_p=0.05, repetition_penalty=1.1,
                           max_tokens=16)
    return (requests_for(CHATS[0], warm, 3, 11) + requests_for(CHATS[1], warm, 3, 22)
            + requests_for(CHATS[1], picky, 2, 33))


def test_generate_end_to_end(backend, hf):
    reqs = workload()
    gens = list(backend.generate(reqs))
    assert sorted(g.key for g in gens) == sorted(r.key for r in reqs)
    by_key = {g.key: g for g in gens}
    for r in reqs:
        g = by_key[r.key]
        assert g.backend == "vllm" and g.text.strip()
        assert 0 < g.completion_tokens <= r.params.max_tokens
        assert g.finish_reason in ("stop", "length")
        assert (g.finish_reason == "length") == (g.completion_tokens == r.params.max_tokens)
        expected = hf.tokenizer(hf.render(r.chat), add_special_tokens=False)["input_ids"]
        assert g.prompt_tokens == len(expected)  # the same prompt tokens as the hf backend
        assert g.latency_s >= 0


def test_same_seed_same_text(backend):
    reqs = workload()
    first = {g.key: g.text for g in backend.generate(reqs)}
    second = {g.key: g.text for g in backend.generate(reqs)}
    assert first == second


def test_samples_map_back_in_sample_index_order(backend):
    reqs = requests_for(CHATS[0], SamplingParams(temperature=1.0, max_tokens=20), 4, 500)
    forward = {g.key: g for g in backend.generate(reqs)}
    backward = {g.key: g for g in backend.generate(list(reversed(reqs)))}
    assert {k: g.text for k, g in forward.items()} == {k: g.text for k, g in backward.items()}
    for r in reqs:  # the i-th sample of the group is seeded with the first seed + i
        assert forward[r.key].extra["seed"] == reqs[0].seed + r.sample_index
    assert len({g.text for g in forward.values()}) == 4  # four different samples


def test_closing_early_aborts_the_rest(backend):
    reqs = workload()
    it = backend.generate(reqs)
    next(it)
    it.close()
    assert not backend.engine.has_unfinished_requests()
    assert len(list(backend.generate(reqs[:2]))) == 2


def test_score_agrees_with_hf(backend, hf):
    prompts = [[{"role": "user", "content": r[1]} for r in CHATS[0]],
               [{"role": role, "content": c} for role, c in CHATS[1]],
               [{"role": "user", "content": "Say hi."}]]
    texts = ["The sea is a vast mirror of the sky.",
             "Leaves drift slowly down,\ncrimson whispers on the wind,\nthe year exhales.",
             ""]
    got = backend.score(prompts, texts)
    want = hf.score(prompts, texts)
    assert [len(x) for x in got] == [len(x) for x in want]
    assert got[2] == []
    diffs = [abs(a - b) for g, w in zip(got, want, strict=True)
             for a, b in zip(g, w, strict=True)]
    assert max(diffs) < 1e-2, max(diffs)
    assert all(x <= 0 for row in got for x in row)


def test_many_seeded_prompts_beyond_one_prefill_budget(backend):
    # More prompt tokens than one engine step takes (4096 on CPU): with chunked prefill,
    # vLLM-CPU 0.32 dies on seeded requests ("CPU Generator does not use offset").
    params = SamplingParams(temperature=0.8, max_tokens=4)
    reqs = []
    for i in range(40):
        chat = (("user", f"Story {i}: " + f"a cat named {i} walks to the market. " * 12),)
        reqs += requests_for(chat, params, 1, 7 * i)
    gens = list(backend.generate(reqs))
    assert len(gens) == 40 and all(g.completion_tokens > 0 for g in gens)
    assert sum(g.prompt_tokens for g in gens) > 4096
