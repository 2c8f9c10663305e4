"""The records that flow through the harness: a planned ``Request`` and its ``Generation``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}


@dataclass(frozen=True)
class SamplingParams:
    """Decoding parameters of one request. ``None`` means the backend's default."""

    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0  # 0: off
    min_p: float = 0.0
    repetition_penalty: float = 1.0
    max_tokens: int = 128

    def as_dict(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "min_p": self.min_p,
            "repetition_penalty": self.repetition_penalty,
            "max_tokens": self.max_tokens,
        }


@dataclass(frozen=True)
class Request:
    """One generation to make: a rendered chat, its sampling parameters and sample index.

    ``key`` is a stable content hash of everything that determines the output (model,
    messages, sampling parameters, sample index, suite seed), so a request is never
    generated twice. ``seed`` is derived from the key, so it is per request and
    reproducible. The remaining fields say where the request sits in the suite.
    """

    key: str
    model: str
    messages: tuple[tuple[str, str], ...]
    params: SamplingParams
    sample_index: int
    seed: int
    variant: str = ""
    input_id: str = ""
    cell: str = ""
    grid: tuple[tuple[str, Any], ...] = ()
    examples: tuple[str, ...] = ()  # few-shot example texts shown in the prompt
    reference: str | None = None
    input_text: str = ""  # the input's main text, for relevance metrics
    # the prompt's rendered format constraints; not in the key: they don't change the output
    constraints: tuple[tuple[str, Any], ...] = ()
    # a reply without text (``content: null``: a refusal) is an answer to store as empty
    # text rather than a failed request: set for judges' calls, whose unreadable answers are
    # counted, never fatal (docs/judges.md); not in the key
    no_text_ok: bool = False

    @property
    def chat(self) -> list[Message]:
        return [{"role": r, "content": c} for r, c in self.messages]

    @property
    def prompt_text(self) -> str:
        """The prompt flattened to plain text (for overlap metrics), one message per line."""
        return "\n".join(c for _, c in self.messages)


@dataclass
class Generation:
    """The stored result of one request."""

    key: str
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"  # "stop" | "length" | "error"
    latency_s: float = 0.0
    backend: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def unique(requests: list[Request]) -> list[Request]:
    """``requests`` without repeated keys, first occurrence kept, in order."""
    return list({r.key: r for r in requests}.values())


def content_key(payload: dict[str, Any]) -> str:
    """Return the sha256 hex digest of ``payload`` as canonical JSON."""
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def derive_seed(suite_seed: int, key: str) -> int:
    """Return a per-request seed in [0, 2**31) from the suite seed and the request key."""
    digest = hashlib.sha256(f"{suite_seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
