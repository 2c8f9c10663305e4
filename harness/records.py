"""The records that flow through the harness: a planned ``Request`` and its ``Generation``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple, get_args

from pydantic import BaseModel, ConfigDict, Field

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}


def grid_text(point: dict[str, Any], sep: str = ",") -> str:
    """A grid point as cell ids write it: ``temperature=0.7,top_p=0.9`` (a float with
    ``:g``, so ``1.0`` is ``1``); empty for the default point."""
    return sep.join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in point.items())


class CellId(NamedTuple):
    """A cell's identity: one variant at one grid point (of one model, where a suite names
    several). Code keys cells by this; ``label`` is only what reports print and what a
    summary's ``cell`` field holds, never parsed back."""

    variant: str
    grid: tuple[tuple[str, Any], ...] = ()
    model: str | None = None

    @classmethod
    def of(cls, variant: str, point: dict[str, Any], model: str | None = None) -> CellId:
        return cls(variant, tuple(point.items()), model)

    @property
    def point(self) -> dict[str, Any]:
        return dict(self.grid)

    @property
    def label(self) -> str:
        """``persona|temperature=0.7``; the variant alone at the default grid point."""
        grid = grid_text(self.point)
        return f"{self.variant}|{grid}" if grid else self.variant


class SamplingParams(BaseModel):
    """How one request is decoded. Every field is one sampling axis, and this class is the
    one list of them: a suite's ``defaults:`` section is this model (its defaults are what a
    suite without ``defaults:`` gets), its ``sampling:`` grid may vary any field, the plan
    builds one per grid point, the request key hashes ``as_dict()``, and each backend maps
    the fields it honours and refuses a request that sets one it does not
    (``harness.backends.base.refuse_unhonoured``).

    A new axis is one field here (type, default, bounds, description) plus its mapping in
    the backends that honour it. Give it the default ``None``, which means the backend's own
    default: ``as_dict`` leaves ``None`` out, so the keys of requests planned before the
    axis existed, and the generations cached under them, stay the same. Bounds are checked
    on construction (pydantic's ``ValidationError``); instances are frozen and hashable.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    temperature: float = Field(0.7, ge=0, description=(
        "Softmax temperature; 0 decodes greedily."))
    top_p: float = Field(1.0, gt=0, le=1, description=(
        "Nucleus sampling: keep the most probable tokens whose probabilities sum to top_p; "
        "1 is off."))
    top_k: int = Field(0, ge=0, description="Keep the k most probable tokens; 0 is off.")
    min_p: float = Field(0.0, ge=0, le=1, description=(
        "Drop tokens less probable than min_p times the most probable one; 0 is off."))
    repetition_penalty: float = Field(1.0, gt=0, description=(
        "CTRL repetition penalty on tokens already in the prompt or the output; 1 is off."))
    max_tokens: int = Field(96, ge=1, description=(
        "The most tokens generated; a sample cut there ends with finish_reason `length`."))

    @classmethod
    def axes(cls) -> tuple[str, ...]:
        """Every axis, in declaration order."""
        return tuple(cls.model_fields)

    @classmethod
    def whole_axes(cls) -> tuple[str, ...]:
        """The axes whose values are whole numbers (a grid's ``40.0`` means 40)."""
        return tuple(name for name, f in cls.model_fields.items()
                     if int in (get_args(f.annotation) or (f.annotation,)))

    def as_dict(self) -> dict[str, Any]:
        """The axes as they enter the request key: every one but those left ``None``."""
        return self.model_dump(exclude_none=True)

    def changed(self) -> dict[str, Any]:
        """The axes set to something other than their default."""
        fields = type(self).model_fields
        return {name: value for name in fields
                if (value := getattr(self, name)) != fields[name].default}


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
