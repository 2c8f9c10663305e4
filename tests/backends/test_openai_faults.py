"""The openai backend against a local misbehaving server: retries, errors, streaming."""

from __future__ import annotations

import time

import pytest

from harness.backends.base import BackendConfigError, BackendError
from harness.backends.openai import OpenAIBackend
from harness.backends.server import Server
from harness.records import Request, SamplingParams
from tests.backends.fake_server import prompt_id


def make_requests(n: int, **params) -> list[Request]:
    sp = SamplingParams(**{"max_tokens": 8, **params})
    return [Request(key=f"{i:02d}" + "k" * 40, model="m", messages=(("user", f"p{i}"),),
                    params=sp, sample_index=0, seed=1000 + i) for i in range(n)]


def backend(url: str | list[str], **server) -> OpenAIBackend:
    opts = {"base_url": url, "timeout": 2.0, "max_retries": 3, "concurrency": 4, **server}
    return OpenAIBackend(Server(**opts), "served-model", backoff_base=0.01, backoff_max=0.05)


def echo(body, attempt):
    return ("ok", "answer to " + prompt_id(body))


def test_all_succeed_with_request_fields(serve):
    srv = serve(echo)
    reqs = make_requests(12, temperature=0.5, top_k=20, min_p=0.1)
    gens = list(backend(srv.url).generate(reqs))
    assert sorted(g.key for g in gens) == sorted(r.key for r in reqs)
    by_key = {g.key: g for g in gens}
    for r in reqs:
        g = by_key[r.key]
        assert g.text == "answer to " + r.messages[-1][1]
        assert (g.prompt_tokens, g.completion_tokens) == (7, 3)
        assert g.finish_reason == "length" and g.backend == "openai"
        assert g.extra["attempts"] == 1
    body = next(b for _, _, b in srv.seen if b["messages"][0]["content"] == "p3")
    assert body["model"] == "served-model" and body["seed"] == 1003
    assert body["temperature"] == 0.5 and body["max_tokens"] == 8
    assert body["top_k"] == 20 and body["min_p"] == 0.1
    assert "repetition_penalty" not in body  # defaults are not sent to strict servers


def test_server_model_overrides_and_no_extras_by_default(serve):
    srv = serve(echo)
    b = OpenAIBackend(Server(base_url=srv.url, model="other"), "m")
    list(b.generate(make_requests(1)))
    body = srv.seen[0][2]
    assert body["model"] == "other"
    assert not {"top_k", "min_p", "repetition_penalty"} & body.keys()


FAULTS = [
    ("status", 500),
    ("status", 503),
    ("status", 429, {"Retry-After": "0"}),
    ("drop",),
    ("malformed",),
    ("truncated",),
    ("json", {"choices": []}),
]


def test_transient_faults_are_retried_until_success(serve):
    # request i fails with fault i on its first attempt and the next fault on the second
    def script(body, attempt):
        i = int(prompt_id(body)[1:])
        if attempt < 2:
            return FAULTS[(i + attempt) % len(FAULTS)]
        return echo(body, attempt)

    srv = serve(script)
    reqs = make_requests(len(FAULTS))
    gens = list(backend(srv.url).generate(reqs))
    assert sorted(g.key for g in gens) == sorted(r.key for r in reqs)
    assert all(g.extra["attempts"] == 3 for g in gens)
    assert all(g.text.startswith("answer to p") for g in gens)


def test_timeout_is_retried(serve):
    srv = serve(lambda body, attempt: ("sleep", 1.5) if attempt == 0 else echo(body, attempt))
    start = time.monotonic()
    gens = list(backend(srv.url, timeout=0.3).generate(make_requests(2)))
    assert len(gens) == 2 and all(g.extra["attempts"] == 2 for g in gens)
    assert time.monotonic() - start < 1.4  # did not wait for the slow answers


def test_retry_after_is_honoured(serve):
    srv = serve(lambda body, attempt: ("status", 429, {"Retry-After": "1"}) if attempt == 0
                else echo(body, attempt))
    gens = list(backend(srv.url).generate(make_requests(1)))
    assert len(gens) == 1
    first, second = srv.seen[0][0], srv.seen[1][0]
    assert 0.9 <= second - first < 2.5


def test_permanent_failure_names_the_request_after_yielding_the_rest(serve):
    reqs = make_requests(6)
    bad = reqs[4]
    srv = serve(lambda body, attempt: ("status", 500) if prompt_id(body) == "p4"
                else echo(body, attempt))
    got = []
    with pytest.raises(BackendError) as err:
        for g in backend(srv.url).generate(reqs):
            got.append(g.key)
    assert sorted(got) == sorted(r.key for r in reqs if r is not bad)
    msg = str(err.value)
    assert bad.key[:12] in msg and "HTTP 500" in msg and "1 of 6" in msg
    assert srv.attempts["p4"] == 4  # first try + max_retries


def test_client_errors_are_not_retried(serve):
    srv = serve(lambda body, attempt: ("status", 400))
    with pytest.raises(BackendConfigError, match="HTTP 400") as err:
        list(backend(srv.url).generate(make_requests(1)))
    assert srv.attempts["p0"] == 1
    # refused every time: a configuration error (exit 2), not "run again to resume"
    assert "running again will not help" in str(err.value)


def test_a_refusal_among_transient_failures_stays_resumable(serve):
    """When some requests failed transiently (HTTP 500 past the retries) and others were
    refused, running again can still help: a ``BackendError`` (exit 3), not a config error."""
    srv = serve(lambda body, attempt: ("status", 400) if body["seed"] % 2 else ("status", 500))
    with pytest.raises(BackendError) as err:
        list(backend(srv.url, max_retries=0).generate(make_requests(4)))
    assert not isinstance(err.value, BackendConfigError)


def test_unreachable_server_fails_clearly():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    b = backend(f"http://127.0.0.1:{port}/v1", max_retries=1)
    with pytest.raises(BackendError, match="ConnectError"):
        list(b.generate(make_requests(1)))


def test_concurrency_is_bounded(serve):
    srv = serve(lambda body, attempt: ("sleep", 0.05))
    gens = list(backend(srv.url, concurrency=3).generate(make_requests(15)))
    assert len(gens) == 15
    assert srv.max_in_flight <= 3


def test_results_stream_before_the_slowest_finishes(serve):
    srv = serve(lambda body, attempt: ("sleep", 1.0) if prompt_id(body) == "p0"
                else echo(body, attempt))
    start = time.monotonic()
    it = backend(srv.url).generate(make_requests(4))
    first = next(it)
    assert first.key != make_requests(1)[0].key and time.monotonic() - start < 0.8
    rest = list(it)
    assert len(rest) == 3


def test_closing_the_generator_early_does_not_hang(serve):
    srv = serve(lambda body, attempt: ("sleep", 0.2))
    it = backend(srv.url, concurrency=2).generate(make_requests(20))
    next(it)
    start = time.monotonic()
    it.close()
    assert time.monotonic() - start < 2
    assert len(srv.seen) < 20


def test_api_key_from_env_only(serve, monkeypatch):
    monkeypatch.setenv("HARNESS_TEST_KEY", "sk-secret-123")
    srv = serve(echo)
    b = backend(srv.url, api_key_env="HARNESS_TEST_KEY")
    list(b.generate(make_requests(1)))
    assert srv.seen[0][1]["authorization"] == "Bearer sk-secret-123"
    assert "sk-secret" not in repr(b) and "sk-secret" not in str(vars(b).get("server"))
    monkeypatch.delenv("HARNESS_TEST_KEY")
    with pytest.raises(BackendError, match=r"\$HARNESS_TEST_KEY"):
        backend(srv.url, api_key_env="HARNESS_TEST_KEY")


def test_no_key_sends_no_authorization(serve):
    srv = serve(echo)
    list(backend(srv.url).generate(make_requests(1)))
    assert "authorization" not in srv.seen[0][1]


def test_requests_spread_over_several_base_urls(serve):
    a = serve(lambda body, attempt: ("sleep", 0.05))
    b = serve(lambda body, attempt: ("sleep", 0.05))
    gens = list(backend([a.url, b.url], concurrency=4).generate(make_requests(16)))
    assert len(gens) == 16
    assert len(a.seen) >= 4 and len(b.seen) >= 4
    assert len(a.seen) + len(b.seen) == 16


def test_failing_server_leaves_the_rotation(serve):
    """One of two servers always fails: its requests are retried on the other, and after
    a few failures it gets no more traffic."""
    bad = serve(lambda body, attempt: ("status", 500))
    good = serve(lambda body, attempt: ("sleep", 0.02))
    gens = list(backend([bad.url, good.url], concurrency=2).generate(make_requests(16)))
    assert len(gens) == 16 and {g.key for g in gens} == {r.key for r in make_requests(16)}
    assert len(good.seen) == 16
    assert len(bad.seen) <= 3 + 2  # out of rotation after 3 failures (+ what was in flight)


def test_error_does_not_leak_the_key(serve, monkeypatch):
    monkeypatch.setenv("HARNESS_TEST_KEY", "sk-secret-456")
    srv = serve(lambda body, attempt: ("status", 401))
    with pytest.raises(BackendError) as err:
        list(backend(srv.url, api_key_env="HARNESS_TEST_KEY").generate(make_requests(1)))
    assert "sk-secret" not in str(err.value)


def test_empty_request_list():
    b = backend("http://127.0.0.1:9/v1")
    assert list(b.generate([])) == []


@pytest.fixture(scope="module")
def model_dir(model_path):
    return model_path


@pytest.fixture(scope="module")
def tokenizer(model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir)


def with_tokenizer(b: OpenAIBackend, tokenizer) -> OpenAIBackend:
    b._tokenizer = tokenizer  # load it once for the module, not once per backend
    return b


def test_completions_endpoint_renders_like_hf(serve, model_dir, tokenizer):
    srv = serve(echo)
    b = with_tokenizer(OpenAIBackend(Server(base_url=srv.url, endpoint="completions"),
                                     model_dir), tokenizer)
    reqs = make_requests(2)
    gens = list(b.generate(reqs))
    assert len(gens) == 2 and all(g.finish_reason == "stop" for g in gens)
    expected = tokenizer.apply_chat_template(reqs[0].chat, tokenize=False,
                                             add_generation_prompt=True)
    sent = next(body["prompt"] for _, _, body in srv.seen if "p0" in body["prompt"])
    assert sent == expected


def test_score_slices_the_texts_prompt_logprobs(serve, model_dir, tokenizer):
    def script(body, attempt):
        ids = body["prompt"]
        assert body["echo"] is True and body["logprobs"] == 1
        lps = [None] + [-0.001 * k for k in range(1, len(ids))] + [-9.0]
        return ("json", {"choices": [{"text": "", "logprobs": {"token_logprobs": lps}}]})

    srv = serve(script)
    b = with_tokenizer(OpenAIBackend(Server(base_url=srv.url), model_dir), tokenizer)
    prompts = [[{"role": "user", "content": "Write a haiku."}]] * 2
    texts = ["Leaves fall softly", ""]
    out = b.score(prompts, texts)
    tok = b.tokenizer
    p = len(tok(b.render(prompts[0]), add_special_tokens=False)["input_ids"])
    t = len(tok(texts[0], add_special_tokens=False)["input_ids"])
    assert out[0] == pytest.approx([-0.001 * k for k in range(p, p + t)])
    assert out[1] == []


def test_score_without_prompt_logprobs_says_so(serve, model_dir, tokenizer):
    srv = serve(lambda body, attempt: ("json", {"choices": [{"text": "x", "logprobs": None}]}))
    b = with_tokenizer(OpenAIBackend(Server(base_url=srv.url), model_dir), tokenizer)
    with pytest.raises(BackendError, match="cannot score"):
        b.score([[{"role": "user", "content": "hi"}]], ["hello"])
