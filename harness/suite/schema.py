"""The suite's schema: the pydantic models a suite's YAML is validated against (unknown keys
are errors). Reading the file, its line marks and the checks that need the file system are
``harness.suite.load``'s; the template checks are ``harness.suite.templates``'.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.backends.server import Server
from harness.records import SamplingParams
from harness.suite.evaluation import Adaptive, Check, Price, _Strict

if TYPE_CHECKING:
    from harness.judges.registry import JudgeKind

# the axes a `sampling:` grid may vary: every sampling parameter, and how many few-shot
# examples a prompt shows (which changes the messages, not the decoding)
GRID_KEYS = (*SamplingParams.axes(), "fewshot_k")


class MessageSpec(_Strict):
    role: Literal["system", "user", "assistant"]
    content: str


class FewShot(_Strict):
    """How a prompt shows examples from the suite's ``examples:`` pool."""

    k: int = Field(2, ge=0)
    strategy: Literal["fixed", "random", "similar"] = "random"
    ids: list[str] = Field(default_factory=list, description="example ids for strategy fixed")
    format: Literal["messages", "template"] = "messages"


class Constraints(_Strict):
    """Format checks on each output of a prompt, scored by the ``constraint_pass`` metric.

    Words are harness tokens (each CJK character one word); chars are non-whitespace
    characters (so a Chinese length target counts characters); lines are non-empty lines.
    ``must_include`` / ``must_not_include`` are Jinja2 templates rendered with the input's
    variables, matched as case-insensitive substrings.
    """

    min_words: int | None = Field(None, ge=0)
    max_words: int | None = Field(None, ge=0)
    min_chars: int | None = Field(None, ge=0)
    max_chars: int | None = Field(None, ge=0)
    lines: int | None = Field(None, ge=1)
    min_lines: int | None = Field(None, ge=0)
    max_lines: int | None = Field(None, ge=0)
    must_include: list[str] = Field(default_factory=list)
    must_not_include: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ranges(self) -> Constraints:
        for low, high in (("min_words", "max_words"), ("min_chars", "max_chars"),
                          ("min_lines", "max_lines")):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"{low} ({lo}) is greater than {high} ({hi})")
        return self


class PromptSpec(_Strict):
    """One prompt variant. ``template`` is the final user message (Jinja2); ``messages``
    gives the whole chat (each content a Jinja2 template); ``system`` a persona;
    ``constraints`` format checks on its outputs."""

    id: str
    template: str | None = None
    messages: list[MessageSpec] | None = None
    system: str | None = None
    fewshot: FewShot | None = None
    history_window: int = Field(5, ge=0)
    constraints: Constraints | None = None
    description: str = ""

    @model_validator(mode="after")
    def _has_text(self) -> PromptSpec:
        if self.template is None and not self.messages:
            raise ValueError("a prompt needs `template` or `messages`")
        return self


class Example(BaseModel):
    """A few-shot example: template variables plus the ideal ``output``."""

    model_config = ConfigDict(extra="allow")
    id: str
    output: str

    @property
    def vars(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class InputSpec(BaseModel):
    """One input: template variables, an optional ``reference`` and chat ``history``."""

    model_config = ConfigDict(extra="allow")
    id: str
    reference: str | None = None
    history: list[MessageSpec] = Field(default_factory=list)

    @property
    def vars(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    @property
    def text(self) -> str:
        """The input's main text: its first string variable (e.g. the topic)."""
        for value in self.vars.values():
            if isinstance(value, str):
                return value
        return self.id


_INT_AXES = (*SamplingParams.whole_axes(), "fewshot_k")


def _check_grid_value(key: str, value: float) -> None:
    """Raise ``ValueError`` unless ``value`` is allowed for ``key`` as in ``defaults``."""
    if not math.isfinite(value):
        raise ValueError(f"sampling.{key}: {value} is not a finite number")
    if key in _INT_AXES and not float(value).is_integer():
        raise ValueError(f"sampling.{key}: {value:g} is not a whole number")
    if key == "fewshot_k":
        if value < 0:
            raise ValueError(f"sampling.fewshot_k: {value:g} is negative")
        return
    try:
        SamplingParams.model_validate({key: int(value) if key in _INT_AXES else value})
    except ValidationError as exc:
        raise ValueError(f"sampling.{key}: {value:g}: "
                         f"{exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None


class Judge(_Strict):
    """An LLM judge (docs/judges.md): a model that scores each sample (``rubric``: a score
    on ``scale``; ``checklist``: the share of yes/no ``questions`` passed) or compares the
    samples of two variants (``pairwise``: judged in both orders, a tie when they disagree,
    Bradley–Terry strengths per variant), or averages other judges (``panel``: the mean of
    its members' scores, each rescaled to 0-1), or a plugin's kind
    (``harness.judges.registry``). Its values are the metric ``judge.<name>``."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    kind: str = "rubric"  # a registered judge kind (harness.judges.registry)
    of: list[str] = Field(default_factory=list)  # panel: the rubric/checklist judges averaged
    backend: str | None = None  # default: the suite's backend
    model: str | None = None  # default: the suite's model (a demo, not a judge to trust)
    server: Server | None = None  # for backend openai; default: the suite's server
    # rubric / pairwise: a shipped criterion (creativity, coherence, persona, constraints,
    # overall) or your own words; checklist: ``questions`` (or the shipped ``ttcw`` set)
    criterion: str | None = None
    questions: list[str] | str | None = None
    prompt: str | None = None  # your own Jinja template instead of the shipped one
    # what the judge is told the task was: a Jinja template over the input's fields
    # (default: the user message the text answered; for pairwise judges of variants whose
    # requests differ, the input's main text)
    task: str | None = None
    scale: tuple[int, int] = (1, 10)
    language: Literal["auto", "en", "zh"] = "auto"  # auto: Chinese when the task or text is
    repeats: int = Field(1, ge=1, le=20)  # judge each item this many times (new seeds)
    temperature: float | None = Field(None, ge=0)  # default: 0 for 1 repeat, else 0.7
    max_tokens: int = Field(48, ge=1)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        from harness.errors import UnknownName
        from harness.judges.registry import judge_kind

        try:
            judge_kind(kind)
        except UnknownName as exc:
            raise ValueError(str(exc)) from None
        return kind

    @model_validator(mode="after")
    def _complete(self) -> Judge:
        if self.scale[0] >= self.scale[1]:
            raise ValueError(f"scale must go from low to high, got {list(self.scale)}")
        self.spec.check(self)
        if self.repeats > 1 and self.temperature == 0:
            raise ValueError("repeats at temperature 0 all give the same answer; give a "
                             "temperature above 0 (or leave it out: 0.7 with repeats)")
        if self.spec.combines != bool(self.of):
            raise ValueError("a panel judge names the judges it averages in `of`, and only "
                             "a panel has `of`")
        if not self.spec.takes_questions and self.questions:
            raise ValueError(f"`questions` belong to a checklist judge, not a {self.kind} one")
        if self.backend is not None:
            from harness.backends import backend_names

            if self.backend not in backend_names():
                raise ValueError(f"unknown backend {self.backend!r}; expected one of "
                                 f"{', '.join(backend_names())}")
        return self

    @property
    def metric(self) -> str:
        return f"judge.{self.name}"

    @property
    def spec(self) -> JudgeKind:
        """The registered class of its kind: what differs between kinds."""
        from harness.judges.registry import judge_kind

        return judge_kind(self.kind)


class Suite(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    model: str = "smollm2-135m"
    backend: str = "auto"  # auto, hf, vllm, openai, or a plugin's (harness.plugins)
    executor: Literal["local", "ray"] = "local"  # ray: a pool of replicas (docs/scaling.md)
    replicas: int | None = Field(None, ge=1)  # ray replicas (default: 1 per GPU, else per CPU)
    # hf weights and arithmetic, for generation and perplexity; bfloat16 is about twice as
    # fast on a CPU with AVX512-BF16, but its texts then depend on batch mates too and its
    # perplexities drift by 0.5% on average (docs/performance.md)
    dtype: Literal["float32", "bfloat16"] = "float32"
    scorer: str | None = None
    embedder: str | None = None  # sentence-embedding model: alias or local directory
    server: Server = Field(default_factory=Server)
    defaults: SamplingParams = Field(default_factory=SamplingParams)  # one value per axis
    prompts: list[PromptSpec] = Field(min_length=1)
    examples: list[Example] = Field(default_factory=list)
    inputs: list[InputSpec] = Field(default_factory=list)
    inputs_file: str | None = None
    sampling: dict[str, list[float]] = Field(default_factory=dict)
    samples: int = Field(4, ge=1, le=10_000)
    seed: int = 0
    metrics: list[str] | None = None
    checks: list[Check] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    plot: dict[str, str] = Field(default_factory=dict)
    judges: list[Judge] = Field(default_factory=list)
    prices: dict[str, Price] = Field(default_factory=dict)  # by model name, per 1M tokens
    adaptive: Adaptive | None = None  # an adaptive sweep (harness.stats.race); None: every cell

    # set by load_suite, not part of the YAML
    path: Path | None = Field(None, exclude=True)
    hash: str = Field("", exclude=True)

    @field_validator("backend")
    @classmethod
    def _backend(cls, name: str) -> str:
        from harness.backends import backend_names

        names = backend_names()
        if name not in names:
            raise ValueError(f"unknown backend {name!r}; expected one of {', '.join(names)}")
        return name

    @field_validator("sampling")
    @classmethod
    def _grid(cls, grid: dict[str, list[float]]) -> dict[str, list[float]]:
        for key, values in grid.items():
            if key not in GRID_KEYS:
                raise ValueError(f"unknown sampling axis {key!r}; expected one of {GRID_KEYS}")
            if not values:
                raise ValueError(f"sampling axis {key!r} is empty; give at least one value")
            for v in values:  # every value passes the checks `defaults` has
                _check_grid_value(key, v)
        return grid

    @model_validator(mode="before")
    @classmethod
    def _input_ids(cls, data: Any) -> Any:
        """Give every inline input without an ``id`` one made from its first text value
        (``{topic: the sea}`` -> ``the-sea``), or ``input-N``; never one already taken."""
        if not isinstance(data, dict) or not isinstance(data.get("inputs"), list):
            return data
        taken = {str(i["id"]) for i in data["inputs"] if isinstance(i, dict) and "id" in i}
        inputs = []
        for n, item in enumerate(data["inputs"], 1):
            if isinstance(item, dict) and "id" not in item:
                item = {"id": _fresh_id(item, n, taken), **item}
            inputs.append(item)
        return {**data, "inputs": inputs}

    @model_validator(mode="after")
    def _panels(self) -> Suite:
        kinds = {j.name: j.spec for j in self.judges}
        for judge in self.judges:
            for member in judge.of:
                if member not in kinds or not kinds[member].averaged:
                    raise ValueError(f"panel {judge.name!r}: {member!r} is not a rubric or "
                                     "checklist judge of this suite")
        return self

    @model_validator(mode="after")
    def _unique_ids(self) -> Suite:
        for what, items in (("prompt", self.prompts), ("input", self.inputs),
                            ("example", self.examples), ("judge", self.judges)):
            seen = set()
            for item in items:
                ident = item.name if isinstance(item, Judge) else item.id
                if ident in seen:
                    raise ValueError(f"duplicate {what} {'name' if what == 'judge' else 'id'}"
                                     f" {ident!r}")
                seen.add(ident)
        return self

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def source_paths(self) -> list[Path]:
        return [self.base_dir / s for s in self.sources]

    def embedder_path(self) -> str | None:
        """The ``embedder`` alias, or its directory resolved against the suite's folder."""
        if self.embedder is None:
            return None
        from harness.metrics.embedding import EMBEDDER_ALIASES

        if self.embedder in EMBEDDER_ALIASES:
            return self.embedder
        return str((self.base_dir / self.embedder).resolve())


def judges_of(config: dict[str, Any]) -> list[Judge]:
    """The judges a run was made with, from its stored config."""
    return [Judge.model_validate(j) for j in config.get("judges", [])]


def _fresh_id(item: dict[str, Any], n: int, taken: set[str]) -> str:
    text = next((v for k, v in item.items() if isinstance(v, str) and k != "reference"), "")
    base = re.sub(r"[^\w]+", "-", text.lower()).strip("-")[:32].strip("-") or f"input-{n}"
    fresh, k = base, 2
    while fresh in taken:
        fresh, k = f"{base}-{k}", k + 1
    taken.add(fresh)
    return fresh
