"""The openai backend against a real ``vllm serve`` on 127.0.0.1 (one server per session)."""

from __future__ import annotations

import pytest

from harness.backends.openai import OpenAIBackend
from harness.records import Request, SamplingParams, content_key
from harness.suite import Server

pytest.importorskip("vllm")

pytestmark = pytest.mark.vllm


def make_requests(n: int, samples: int = 2) -> list[Request]:
    params = SamplingParams(temperature=0.8, top_k=40, max_tokens=24)
    out = []
    for i in range(n):
        chat = (("user", f"Write a short line about the number {i}."),)
        for s in range(samples):
            key = content_key({"chat": chat, "sample": s})
            out.append(Request(key=key, model="smollm2-135m", messages=chat, params=params,
                               sample_index=s, seed=1000 * i + s))
    return out


@pytest.mark.parametrize("endpoint", ["chat", "completions"])
def test_generate_against_vllm_serve(vllm_server, model_path, endpoint):
    b = OpenAIBackend(Server(base_url=vllm_server, model="smollm2", endpoint=endpoint,
                             concurrency=4, timeout=120), model_path)
    reqs = make_requests(3)
    gens = list(b.generate(reqs))
    assert sorted(g.key for g in gens) == sorted(r.key for r in reqs)
    for g in gens:
        assert g.text.strip() and g.backend == "openai"
        assert 0 < g.completion_tokens <= 24 and g.prompt_tokens > 10
        assert (g.finish_reason == "length") == (g.completion_tokens == 24)


def test_seed_is_honoured(vllm_server, model_path):
    # one request at a time, so batch composition cannot change the numerics
    b = OpenAIBackend(Server(base_url=vllm_server, model="smollm2", concurrency=1,
                             timeout=120), model_path)
    reqs = make_requests(2)
    first = {g.key: g.text for g in b.generate(reqs)}
    second = {g.key: g.text for g in b.generate(reqs)}
    assert first == second
    assert first[reqs[0].key] != first[reqs[1].key]  # different seeds, different samples


def test_score_against_vllm_serve_agrees_with_hf(vllm_server, model_path):
    from harness.backends.hf import HFBackend

    b = OpenAIBackend(Server(base_url=vllm_server, model="smollm2", timeout=120), model_path)
    prompts = [[{"role": "user", "content": "Write one sentence about the sea."}],
               [{"role": "user", "content": "Say hi."}]]
    texts = ["The sea is a vast mirror of the sky.", "Hi there!"]
    got = b.score(prompts, texts)
    hf = HFBackend(model_path)
    want = hf.score(prompts, texts)
    assert [len(x) for x in got] == [len(x) for x in want]
    assert max(abs(a - c) for g, w in zip(got, want, strict=True)
               for a, c in zip(g, w, strict=True)) < 1e-2
