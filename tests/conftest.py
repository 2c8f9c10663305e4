"""Shared fixtures: a fake backend for fast runner tests, tiny suites for the real model."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from harness.records import Generation, Request

ROOT = Path(__file__).parent.parent
WORDS = ("spring rain blossom river light song green wind morning bird "
         "春 雨 花 风 山 水 月 光").split()


class FakeBackend:
    """Deterministic text from each request's seed; scoring returns -1 per character.
    For testing the runner's plumbing only: everything model-related has real tests."""

    name = "hf"

    def __init__(self, fail_after: int | None = None):
        self.generated: list[str] = []
        self.fail_after = fail_after
        self.closed = False

    def generate(self, requests: Sequence[Request]) -> Iterator[Generation]:
        from harness.backends.base import BackendError

        for r in requests:
            if self.fail_after is not None and len(self.generated) >= self.fail_after:
                raise BackendError(f"fake server failed on request {r.key[:12]}")
            rng = random.Random(r.seed)
            n = max(1, int(r.params.max_tokens * (0.3 + 0.5 * rng.random())))
            text = " ".join(rng.choice(WORDS) for _ in range(n))
            self.generated.append(r.key)
            yield Generation(key=r.key, text=text, completion_tokens=n, backend=self.name)

    def score(self, prompts, texts):
        return [[-1.0] * max(1, len(t) // 4) for t in texts]

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_backend(monkeypatch):
    """Patch the runner to use FakeBackend; returns the list of backends created."""
    import harness.generate.runner

    made: list[FakeBackend] = []

    def make(name, model, **kwargs):
        backend = FakeBackend()
        made.append(backend)
        return backend

    monkeypatch.setattr(harness.generate.runner, "make_backend", make)
    return made


TINY_SUITE = """\
name: tiny
model: smollm2-135m
backend: hf
seed: 7
samples: {samples}
defaults:
  max_tokens: {max_tokens}
sampling:
  temperature: [0.7, 1.0]
examples:
  - id: a
    topic: autumn
    output: "Red leaves fall on the quiet road."
  - id: b
    topic: 冬天
    output: "雪落在安静的山上。"
prompts:
  - id: plain
    template: "Write a two-line poem about {{{{ topic }}}}."
  - id: fewshot
    fewshot: {{k: 1, strategy: random}}
    template: "Write a two-line poem about {{{{ topic }}}}."
inputs:
  - id: spring
    topic: spring
  - id: chun
    topic: 春天
metrics: [distinct_1, distinct_2, self_bleu, compression_ratio, mean_length, repetition,
          perplexity, max_verbatim_span, length_words]
"""


@pytest.fixture
def tiny_suite(tmp_path) -> Path:
    """A 2 prompts × 2 inputs × 2 temperatures × 2 samples suite (32 requests)."""
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SUITE.format(samples=2, max_tokens=12), encoding="utf-8")
    return path


def write_tiny_suite(path: Path, samples: int = 2, max_tokens: int = 12) -> Path:
    path.write_text(TINY_SUITE.format(samples=samples, max_tokens=max_tokens), encoding="utf-8")
    return path


@pytest.fixture
def serve():
    """Start local fake OpenAI-compatible servers (``tests/backends/fake_server.py``) with
    ``serve(script)``; all are closed after the test."""
    from tests.backends.fake_server import FakeServer

    servers: list = []

    def start(script):
        servers.append(FakeServer(script))
        return servers[-1]

    yield start
    for s in servers:
        s.close()
