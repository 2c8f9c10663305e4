"""A backend plugin: a factory ``(model, **options) -> Backend``. The echo backend answers
every request with its last user message, shouted, so runs are instant and predictable."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from harness.records import Generation, Message, Request


class EchoBackend:
    name = "echo"

    def __init__(self, model: str) -> None:
        self.model = model

    def generate(self, requests: Sequence[Request]) -> Iterator[Generation]:
        for r in requests:
            last = next(c for role, c in reversed(r.messages) if role == "user")
            text = f"{last.upper()}! (sample {r.sample_index})"
            yield Generation(key=r.key, text=text, completion_tokens=len(text.split()),
                             backend=self.name)

    def score(self, prompts: Sequence[Sequence[Message]], texts: Sequence[str]
              ) -> list[list[float]]:
        return [[-1.0] * max(1, len(t.split())) for t in texts]  # a flat "model"

    def close(self) -> None:
        pass


def make_echo(model: str, **options: Any) -> EchoBackend:
    return EchoBackend(model)
