"""Suites: the YAML a user writes, parsed into pydantic models.

``load_suite(path)`` reads the file with ``yaml.safe_load`` semantics, validates it against
the schema below (unknown keys are errors), loads ``inputs_file`` and checks that every
template renders for every input. Any problem raises ``SuiteError`` whose message names the
file, the line and column, the field and what was expected.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.backends.server import Server

GRID_KEYS = ("temperature", "top_p", "top_k", "min_p", "repetition_penalty", "max_tokens",
             "fewshot_k")


class SuiteError(Exception):
    """A suite is invalid. ``str(err)`` is one message for the user."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class Defaults(_Strict):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    temperature: float = Field(0.7, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    top_k: int = Field(0, ge=0)
    min_p: float = Field(0.0, ge=0, le=1)
    repetition_penalty: float = Field(1.0, gt=0)
    max_tokens: int = Field(96, ge=1)


_INT_AXES = ("top_k", "max_tokens", "fewshot_k")


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
        Defaults.model_validate({key: int(value) if key in _INT_AXES else value})
    except ValidationError as exc:
        raise ValueError(f"sampling.{key}: {value:g}: "
                         f"{exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None


class Check(_Strict):
    """A pass/fail rule on a cell metric: ``metric op value`` for every matching cell, or
    ``max_increase`` / ``max_decrease`` relative to a baseline."""

    metric: str
    op: Literal["<=", ">=", "<", ">"] | None = None
    value: float | None = None
    variant: str | None = None
    max_increase: float | None = None
    max_decrease: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _parse_string(cls, data: Any) -> Any:
        if isinstance(data, str):
            m = re.fullmatch(r"\s*([\w.]+)\s*(<=|>=|<|>)\s*(-?[\d.]+(?:e-?\d+)?)\s*", data)
            if not m:
                raise ValueError(f"expected 'metric <= number' (or >=, <, >), got {data!r}")
            return {"metric": m[1], "op": m[2], "value": float(m[3])}
        return data

    @model_validator(mode="after")
    def _complete(self) -> Check:
        absolute = self.op is not None and self.value is not None
        relative = self.max_increase is not None or self.max_decrease is not None
        if not (absolute or relative):
            raise ValueError("a check needs `op` and `value`, or `max_increase`/`max_decrease`")
        return self

    def describe(self) -> str:
        scope = f" [{self.variant}]" if self.variant else ""
        if self.op is not None:
            return f"{self.metric}{scope} {self.op} {self.value:g}"
        if self.max_increase is not None:
            return f"{self.metric}{scope} rises at most {self.max_increase:g} over baseline"
        return f"{self.metric}{scope} falls at most {self.max_decrease:g} below baseline"


class Judge(_Strict):
    """An LLM judge (docs/judges.md): a model that scores each sample (``rubric``: a score
    on ``scale``; ``checklist``: the share of yes/no ``questions`` passed) or compares the
    samples of two variants (``pairwise``: judged in both orders, a tie when they disagree,
    Bradley–Terry strengths per variant), or averages other judges (``panel``: the mean of
    its members' scores, each rescaled to 0-1). Its values are the metric
    ``judge.<name>``."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    kind: Literal["rubric", "checklist", "pairwise", "panel"] = "rubric"
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

    @model_validator(mode="after")
    def _complete(self) -> Judge:
        if self.scale[0] >= self.scale[1]:
            raise ValueError(f"scale must go from low to high, got {list(self.scale)}")
        if self.kind == "checklist" and not self.questions and not self.prompt:
            raise ValueError("a checklist judge needs `questions` (a list, or `ttcw`)")
        if self.repeats > 1 and self.temperature == 0:
            raise ValueError("repeats at temperature 0 all give the same answer; give a "
                             "temperature above 0 (or leave it out: 0.7 with repeats)")
        if (self.kind == "panel") != bool(self.of):
            raise ValueError("a panel judge names the judges it averages in `of`, and only "
                             "a panel has `of`")
        if self.kind != "checklist" and self.questions:
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


# the largest price per million tokens: 1e9 of any currency is far above any real price,
# and keeps every cost finite (1e308 would overflow to infinity once multiplied by tokens)
MAX_PRICE = 1e9


class Price(_Strict):
    """What a model's tokens cost, in your currency per million tokens: finite, from 0 to
    ``MAX_PRICE``."""

    input: float = Field(0.0, ge=0, le=MAX_PRICE, allow_inf_nan=False)
    output: float = Field(0.0, ge=0, le=MAX_PRICE, allow_inf_nan=False)


class Adaptive(_Strict):
    """An adaptive sweep (``harness.stats.race``): inputs are drawn ``batch`` at a time in a
    seeded order, every surviving cell runs on them, and a cell is dropped once an
    anytime-valid test says it is beaten (docs/statistics.md, "Races")."""

    objective: str | list[str] = "distinct_2"  # metric(s); several: a Pareto race
    goal: Literal["best", "baseline"] = "best"
    margin: float | list[float] = Field(0.0)  # differences below it are ties; one per objective
    alpha: float = Field(0.05, gt=0, lt=0.5)
    budget: int | None = Field(None, ge=1)  # at most this many generations
    batch: int = Field(4, ge=1, le=10_000)  # new inputs per round

    @property
    def objectives(self) -> list[str]:
        return [self.objective] if isinstance(self.objective, str) else list(self.objective)

    @property
    def margins(self) -> list[float]:
        m = self.margin
        return [float(m)] * len(self.objectives) if isinstance(m, (int, float)) else list(m)

    @model_validator(mode="after")
    def _shape(self) -> Adaptive:
        if not self.objectives:
            raise ValueError("objective: name at least one metric")
        if len(set(self.objectives)) != len(self.objectives):
            raise ValueError("objective: a metric is named twice")
        if len(self.margins) != len(self.objectives):
            raise ValueError(f"margin: give one margin, or one per objective "
                             f"({len(self.objectives)})")
        if any(not math.isfinite(m) or m < 0 for m in self.margins):
            raise ValueError("margin: must be a finite number >= 0")
        if self.goal == "baseline" and len(self.objectives) > 1:
            raise ValueError("goal baseline takes one objective")
        return self


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
    defaults: Defaults = Field(default_factory=Defaults)
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
        kinds = {j.name: j.kind for j in self.judges}
        for judge in self.judges:
            for member in judge.of:
                if kinds.get(member) not in ("rubric", "checklist"):
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


# -- loading ---------------------------------------------------------------------------

KEY_NAME = re.compile(r"^[A-Z][A-Z0-9_]*(KEY|TOKEN|SECRET)$")


def judges_of(config: dict[str, Any]) -> list[Judge]:
    """The judges a run was made with, from its stored config."""
    return [Judge.model_validate(j) for j in config.get("judges", [])]


def load_suite(path: str | Path, allow_paths: Sequence[str | Path] = (),
               allow_env: Sequence[str] = ()) -> Suite:
    """Read, validate and return the suite at ``path``; raise ``SuiteError`` if it is bad.

    A suite may read files (``inputs_file``, ``sources``) only inside its own folder tree,
    symlinks resolved, or inside a folder of ``allow_paths``; and name in
    ``server.api_key_env`` only a variable that looks like a key (``…KEY``, ``…TOKEN``,
    ``…SECRET``, upper case) or is in ``allow_env``: a suite edited in a pull request must
    not be able to send ``/etc/passwd`` or ``$HOME`` to the server it chose
    (docs/security.md)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SuiteError(f"{path}: no such suite file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"{path}: cannot read suite: {exc}") from None
    data, marks = _parse_yaml(text, path)
    if not isinstance(data, dict):
        raise SuiteError(f"{path}:1:1: expected a mapping of suite fields (name, prompts, ...)")
    try:
        suite = Suite.model_validate(data)
    except ValidationError as exc:
        raise SuiteError(_format_validation(exc, path, marks)) from None
    suite.path = path
    _check_reach(suite, path, marks, allow_paths, allow_env)
    if suite.inputs_file:
        suite.inputs = suite.inputs + _load_inputs_file(suite, path, suite.inputs_file, marks)
    if not suite.inputs:
        raise SuiteError(f"{path}: no inputs; add `inputs:` or `inputs_file:`")
    _check_plan_size(suite)
    if suite.adaptive is not None:
        check_adaptive(suite, path, marks)
    references = _check_references(suite, path, marks)
    # a prompt whose few-shot references are broken cannot render: its template is not
    # checked (the error would only echo the reference problem)
    broken = {i for i, _ in references if i is not None}
    problems = [m for _, m in references] + _check_templates(suite, path, marks, broken)
    if problems:  # every one at once, not only the first
        raise SuiteError("\n".join(problems))
    suite.hash = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return suite


def _check_reach(suite: Suite, path: Path, marks: dict, allow_paths: Sequence[str | Path],
                 allow_env: Sequence[str]) -> None:
    roots = [suite.base_dir.resolve(), *(Path(p).resolve() for p in allow_paths)]
    files = ([(("inputs_file",), suite.inputs_file)] if suite.inputs_file else []) + [
        (("sources", j), src) for j, src in enumerate(suite.sources)]
    for loc, name in files:
        real = (suite.base_dir / name).resolve()
        if not any(real == r or r in real.parents for r in roots):
            raise SuiteError(f"{_where(path, marks, loc)}: {_dotted(loc)}: {name!r} is "
                             f"outside the suite's folder ({real}); allow it on purpose with "
                             "--allow-path DIR")
    servers: list[tuple[tuple[str | int, ...], Server]] = [(("server",), suite.server)] + [
        (("judges", j, "server"), judge.server) for j, judge in enumerate(suite.judges)
        if judge.server is not None]
    for at, server in servers:
        env = server.api_key_env
        if env is not None and not KEY_NAME.match(env) and env not in allow_env:
            where = _dotted((*at, "api_key_env"))
            raise SuiteError(f"{_where(path, marks, (*at, 'api_key_env'))}: "
                             f"{where}: {env!r} does not look like an API-key variable "
                             "(upper case, ending in KEY, TOKEN or SECRET); its value would be "
                             "sent to the suite's server. Allow it on purpose with "
                             f"--allow-env {env}")


def max_requests() -> int:
    """The largest plan a suite may have (``$HARNESS_MAX_REQUESTS``, default 1,000,000)."""
    try:
        return int(os.environ.get("HARNESS_MAX_REQUESTS", "1000000"))
    except ValueError:
        return 1_000_000


def plan_size(suite: Suite) -> tuple[int, int]:
    """(requests, judge calls) the suite plans: prompts × inputs × grid points × samples
    generations, and every judge's calls on them (``harness.judges.calls.planned_calls``,
    an upper bound), both counted before anything is expanded."""
    from harness.judges.calls import planned_calls

    per_prompt = len(suite.inputs) * suite.samples
    for values in suite.sampling.values():
        per_prompt *= len(values)
    judged = sum(planned_calls(j, len(suite.prompts), per_prompt) for j in suite.judges)
    return len(suite.prompts) * per_prompt, judged


def _check_plan_size(suite: Suite) -> None:
    n, judged = plan_size(suite)
    limit = max_requests()
    if n + judged > limit:
        calls = f" and {judged:,} judge calls" if judged else ""
        raise SuiteError(f"{suite.path}: the suite plans {n:,} requests (prompts × inputs × "
                         f"grid points × samples){calls}, more than the limit of {limit:,}"
                         f"{' for both together' if judged else ''}; shrink it, or raise the "
                         "limit on purpose with HARNESS_MAX_REQUESTS")


def check_adaptive(suite: Suite, path: Path | None = None, marks: dict | None = None) -> None:
    """Refuse a race that cannot run: one cell, fewer inputs than a round's ``batch``, an
    objective the suite does not compute (or one with no direction), or a budget below
    one round. Raises ``SuiteError`` with the line of ``adaptive:``."""
    from harness.metrics import DEFAULT_METRICS, METRICS

    race = suite.adaptive
    if race is None:
        return
    where = _where(path or Path(str(suite.path)), marks or {}, ("adaptive",))
    cells = len(suite.prompts) * math.prod(len(v) for v in suite.sampling.values())
    computed = suite.metrics or DEFAULT_METRICS
    problem = None
    if cells < 2:
        problem = "a race needs at least two cells (prompts × grid points); this suite has one"
    elif len(suite.inputs) < race.batch:
        problem = (f"batch: {race.batch} inputs a round, but the suite has "
                   f"{len(suite.inputs)}")
    elif race.budget is not None and race.budget < cells * race.batch * suite.samples:
        problem = (f"budget: {race.budget} generations is less than one round "
                   f"({cells} cells × {race.batch} inputs × {suite.samples} samples = "
                   f"{cells * race.batch * suite.samples})")
    else:
        for name in race.objectives:
            if name.startswith("judge."):
                problem = (f"objective: {name!r}: judges cannot drive a race yet; race on a "
                           "metric and add the judge to the suite's judges")
            elif name not in METRICS:
                problem = f"objective: unknown metric {name!r}"
            elif name not in computed:
                problem = (f"objective: {name!r} is not among the suite's metrics "
                           f"({', '.join(computed)})")
            elif METRICS[name].higher_is is None:
                problem = f"objective: {name!r} has no better direction to race on"
            if problem:
                break
    if problem:
        raise SuiteError(f"{where}: adaptive: {problem}")


def _parse_yaml(text: str, path: Path) -> tuple[Any, dict[tuple, tuple[int, int]]]:
    """Return the YAML data and a map from key path to (line, column), both 1-based."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        # the context mark (e.g. where an unclosed quote started) is where the fix goes
        mark = exc.context_mark or exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        what = f"{exc.context}: {exc.problem}" if exc.context else str(exc.problem)
        if exc.context_mark and exc.problem_mark:
            what += f" (line {exc.problem_mark.line + 1})"
        raise SuiteError(f"{where}: invalid YAML: {what}") from None
    except yaml.YAMLError as exc:
        raise SuiteError(f"{path}: invalid YAML: {exc}") from None
    except RecursionError:
        raise SuiteError(f"{path}: the YAML is nested too deeply to be a suite") from None
    if node is not None:
        size = _expanded_size(node)
        if size > MAX_YAML_NODES:
            raise SuiteError(f"{path}: the YAML expands to more than {MAX_YAML_NODES:,} nodes "
                             "through its aliases (`*name`); a suite that large is a mistake "
                             "or an attack (billion laughs)")
    marks: dict[tuple, tuple[int, int]] = {}

    def walk(n: yaml.Node, at: tuple) -> None:
        if len(at) > MAX_YAML_DEPTH:
            raise SuiteError(f"{path}:{n.start_mark.line + 1}: the YAML is nested deeper than "
                             f"{MAX_YAML_DEPTH} levels; a suite is never that deep")
        marks.setdefault(at, (n.start_mark.line + 1, n.start_mark.column + 1))
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:  # a key's own line is the best place to point at
                marks[at + (k.value,)] = (k.start_mark.line + 1, k.start_mark.column + 1)
                walk(v, at + (k.value,))
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                walk(v, at + (i,))

    if node is not None:
        walk(node, ())
    return data, marks


MAX_YAML_NODES = 200_000
MAX_YAML_DEPTH = 64


def _expanded_size(root: yaml.Node) -> int:
    """Return how many nodes ``root`` has once every alias is expanded, computed once per
    distinct node (aliases share node objects), capped just past ``MAX_YAML_NODES``."""
    memo: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        n, done = stack.pop()
        if id(n) in memo:
            continue
        if isinstance(n, yaml.MappingNode):
            children = [c for kv in n.value for c in kv]
        elif isinstance(n, yaml.SequenceNode):
            children = list(n.value)
        else:
            memo[id(n)] = 1
            continue
        if not done:
            stack.append((n, True))
            stack.extend((c, False) for c in children if id(c) not in memo)
            continue
        memo[id(n)] = min(MAX_YAML_NODES + 1,
                          1 + sum(memo.get(id(c), 1) for c in children))
    return memo[id(root)]


def _where(path: Path, marks: dict, loc: tuple) -> str:
    loc = tuple(loc)
    while loc and loc not in marks:
        loc = loc[:-1]
    line, col = marks.get(loc, (1, 1))
    return f"{path}:{line}:{col}"


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "suite"


def _format_validation(exc: ValidationError, path: Path, marks: dict) -> str:
    lines = []
    for err in exc.errors():
        # pydantic adds the validator's class name for tagged unions etc.; drop non-keys
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r} (check spelling; see docs/suites.md)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        else:
            msg = msg.removeprefix("Value error, ")
            if "input" in err and err["type"] not in ("value_error",):
                msg += f" (got {err['input']!r})"
        lines.append(f"{_where(path, marks, loc)}: {_dotted(loc)}: {msg}")
    return "\n".join(lines)


def _fresh_id(item: dict[str, Any], n: int, taken: set[str]) -> str:
    text = next((v for k, v in item.items() if isinstance(v, str) and k != "reference"), "")
    base = re.sub(r"[^\w]+", "-", text.lower()).strip("-")[:32].strip("-") or f"input-{n}"
    fresh, k = base, 2
    while fresh in taken:
        fresh, k = f"{base}-{k}", k + 1
    taken.add(fresh)
    return fresh


def _load_inputs_file(suite: Suite, path: Path, name: str, marks: dict) -> list[InputSpec]:
    file = suite.base_dir / name
    where = _where(path, marks, ("inputs_file",))
    if not file.exists():
        raise SuiteError(f"{where}: inputs_file {name!r} not found (looked at {file})")
    rows: list[dict] = []
    try:
        if file.suffix == ".jsonl":
            for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise SuiteError(f"{file}:{n}: invalid JSON line: {exc.msg}") from None
        elif file.suffix == ".csv":
            with open(file, newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
        else:
            raise SuiteError(f"{where}: inputs_file must end in .jsonl or .csv, got {file.name!r}")
    except UnicodeDecodeError:
        raise SuiteError(f"{file}: not UTF-8 text") from None
    inputs = []
    known = {i.id for i in suite.inputs}
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise SuiteError(f"{file}:{n}: expected an object of template variables")
        row = dict(row)
        row.setdefault("id", f"{file.stem}-{n}")
        try:
            spec = InputSpec.model_validate(row)
        except ValidationError as exc:
            raise SuiteError(f"{file}:{n}: {exc.errors()[0]['msg']}") from None
        if spec.id in known:
            raise SuiteError(f"{file}:{n}: duplicate input id {spec.id!r}")
        known.add(spec.id)
        inputs.append(spec)
    return inputs


def _check_references(suite: Suite, path: Path, marks: dict) -> list[tuple[int | None, str]]:
    """Every problem with the few-shot references and source files, one line each, with
    the index of the prompt it is in (None for a source file)."""
    problems: list[tuple[int | None, str]] = []
    ids = {e.id for e in suite.examples}
    for i, p in enumerate(suite.prompts):
        if p.fewshot is None:
            continue
        where = _where(path, marks, ("prompts", i, "fewshot"))
        if not suite.examples:
            problems.append((i, f"{where}: prompts[{i}].fewshot: the suite has no `examples:`"
                                " pool"))
            continue
        problems += [(i, f"{where}: prompts[{i}].fewshot.ids: unknown example {ex!r}; "
                      f"expected one of {sorted(ids)}") for ex in p.fewshot.ids if ex not in ids]
        if p.fewshot.strategy == "fixed" and not p.fewshot.ids:
            problems.append((i, f"{where}: prompts[{i}].fewshot: strategy fixed needs `ids:`"))
    for j, src in enumerate(suite.sources):
        problem = _source_problem(suite.base_dir / src, src)
        if problem:
            problems.append((None, f"{_where(path, marks, ('sources', j))}: sources[{j}]: "
                                   f"{problem}"))
    return problems


def _source_problem(file: Path, src: str) -> str | None:
    """Why the source corpus file ``file`` cannot be used, or None."""
    if not file.exists():
        return f"file {src!r} not found (looked at {file})"
    if not file.is_file():
        return f"{src!r} is not a file (a directory?)"
    try:
        with open(file, encoding="utf-8") as fh:
            head = fh.read(1 << 16)
    except UnicodeDecodeError:
        return f"{src!r} is not UTF-8 text"
    except OSError as exc:
        return f"cannot read {src!r}: {exc.strerror}"
    if "\x00" in head:
        return f"{src!r} looks binary (it holds NUL bytes)"
    return None


def _check_templates(suite: Suite, path: Path, marks: dict,
                     skip: set[int] | frozenset[int] = frozenset()) -> list[str]:
    from harness.suite.prompts import TemplateProblem, check_prompt

    problems = []  # every broken prompt, each with its first problem
    for i, prompt in enumerate(suite.prompts):
        if i in skip:
            continue
        try:
            check_prompt(prompt, suite)
        except TemplateProblem as exc:
            field = exc.field or "template"
            loc = ("prompts", i, *(field.split(".") if field else ()))
            loc = tuple(int(p) if isinstance(p, str) and p.isdigit() else p for p in loc)
            problems.append(f"{_where(path, marks, loc)}: prompts[{i}] ({prompt.id}) "
                            f"{field}: {exc}")
    return problems + _check_judge_templates(suite, path, marks)


def _check_judge_templates(suite: Suite, path: Path, marks: dict) -> list[str]:
    """Every judge whose ``prompt`` or ``task`` template would fail in a run, found by
    planning its calls on stand-in texts as long as the longest generation is likely to be
    (``harness.judges.calls.check_judge``), so it cannot fail after the generation."""
    from harness.judges.calls import check_judge
    from harness.suite.prompts import MAX_RENDERED_CHARS, TemplateProblem

    max_tokens = max([suite.defaults.max_tokens,
                      *(int(v) for v in suite.sampling.get("max_tokens", []))])
    text_chars = min(max_tokens * CHARS_PER_TOKEN, MAX_RENDERED_CHARS // 4)
    inputs = [i.model_dump() for i in suite.inputs]
    problems = []
    for j, judge in enumerate(suite.judges):
        try:
            check_judge(judge, inputs, text_chars)
        except TemplateProblem as exc:
            field = (exc.field or "prompt").removeprefix("judge ")
            problems.append(f"{_where(path, marks, ('judges', j, field))}: judges[{j}]"
                            f" ({judge.name}) {field}: {exc}")
    return problems


CHARS_PER_TOKEN = 4  # a stand-in generation's characters per token (English averages ~4)
