"""The metric registry: ``@metric`` registers a function in ``METRICS``; ``score_samples``
and ``score_set`` run named metrics over a batch of texts.

Two kinds of metric:

- ``"sample"``: ``fn(texts, contexts, resources) -> list[float]``, one value per text. It
  receives the whole batch so model-based metrics (perplexity, embeddings) can batch.
- ``"set"``: ``fn(texts, resources) -> float``, one value for a set: the samples of one
  input in one cell (one prompt).
- ``"cell"``: ``fn(groups, resources) -> list[float]``, given the samples of every input of
  a cell (one list of texts per input), one value per input that looks *across* inputs
  (e.g. how similar an input's samples are to other inputs' samples).

Every value is a finite float: empty texts, single-sample sets and one-token texts get a
defined value that each metric documents.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.metrics.embedding import Embedder
    from harness.metrics.overlap import SourceIndex

SAMPLE = "sample"
SET = "set"
CELL = "cell"
_KINDS = (SAMPLE, SET, CELL)
_HIGHER_IS = ("diverse", "coherent", "better", "worse", None)
_NEEDS = ("scorer", "embedder", "equivalence", "sources", "reference", "constraints",
          "persona")
# what a sample must have for a metric that needs it to apply at all: a metric that does
# not apply to a sample gives it no value (not 0, not 1), so a cell without constraints
# has no constraint pass rate and a group without references no BLEU
_APPLIES: dict[str, Callable[[SampleContext], bool]] = {
    "reference": lambda ctx: ctx.reference is not None,
    "constraints": lambda ctx: bool(ctx.constraints),
    "persona": lambda ctx: any(m["role"] == "system" and m["content"].strip()
                               for m in ctx.messages),
}


@dataclass(frozen=True)
class MetricSpec:
    """A registered metric: its name, kind, function and what a higher value means."""

    name: str
    kind: str  # "sample" (per text), "set" (per input's samples), "cell" (per input, across)
    fn: Callable[..., Any]
    description: str  # one line, for `harness metrics`
    source: str  # paper / reference implementation
    version: int = 1  # bump when the definition changes (scores are cached by it)
    higher_is: str | None = None  # "diverse" | "coherent" | "better" | "worse" | None
    # "scorer", "embedder", "sources", "reference", "constraints", "persona"; the last three
    # also say which samples the metric applies to (``applies``)
    needs: tuple[str, ...] = ()
    # the values the metric can take (None: unbounded); intervals are clipped to them
    bounds: tuple[float | None, float | None] = (None, None)
    # how a per-sample metric's values pool over the samples of one input: "mean", or
    # "log_weighted": exp(sum_i w_i ln v_i / sum_i w_i) with w the per-sample metric
    # ``weight`` (perplexity pooled by tokens: exp(total NLL / total tokens))
    pool: str = "mean"
    weight: str | None = None


def applies(spec: MetricSpec, ctx: SampleContext) -> bool:
    """True when per-sample metric ``spec`` has something to measure in ``ctx``: a
    reference for ``needs=("reference",)``, format constraints for ``"constraints"``, a
    system message (the persona) for ``"persona"``. Where it does not apply the sample has
    no value of the metric, and a cell or group none of whose samples it applies to has
    none either."""
    return all(test(ctx) for need, test in _APPLIES.items() if need in spec.needs)


def pool_values(spec: MetricSpec | None, values: Sequence[float],
                weights: Sequence[float] | None = None) -> float:
    """Return one value for the samples ``values`` of a per-sample metric, as its spec says:
    their mean, or for ``pool="log_weighted"`` with ``weights`` the weighted geometric mean
    ``exp(sum w_i ln v_i / sum w_i)`` (1.0 when every weight is 0). Empty: 0.0."""
    if not values:
        return 0.0
    if spec is not None and spec.pool == "log_weighted" and weights is not None:
        total = math.fsum(weights)
        if total <= 0:
            return 1.0
        return math.exp(math.fsum(w * math.log(max(v, 1e-300))
                                  for v, w in zip(values, weights, strict=True)) / total)
    return math.fsum(values) / len(values)


@dataclass
class SampleContext:
    """Everything a per-sample metric may look at besides the text itself."""

    messages: list[dict[str, str]]  # the chat prompt the text was generated from
    prompt_text: str  # the prompt flattened to text
    input_text: str = ""  # the input (e.g. the topic), for relevance
    reference: str | None = None  # gold reference when the input has one
    examples: list[str] = field(default_factory=list)  # few-shot example texts in the prompt
    constraints: dict[str, Any] = field(default_factory=dict)  # the prompt's, rendered


# What ``Resources`` builds its heavy parts with: ``embedder`` (name -> Embedder) and
# ``source_index`` (documents -> SourceIndex), put here by harness.metrics.embedding and
# harness.metrics.overlap when they are imported (importing this module imports
# harness.metrics, which imports both), so this module imports neither.
PROVIDERS: dict[str, Callable[..., Any]] = {}


class MissingResourceError(RuntimeError):
    """A metric needs something that is not available (a scorer, the embedding model);
    the message says what to do."""


class Resources:
    """Heavy things metrics share across a run, loaded on first use.

    ``scorer``: an object with ``.score(prompts, texts) -> list[list[float]]`` (per-token
    natural-log probabilities of each text given its chat prompt), or None.
    ``embedder``: the sentence embedder (``embedder`` names it: an alias or a model
    directory; default all-MiniLM-L6-v2), loaded on first access.
    ``sources``: a ``SourceIndex`` over the files in ``source_paths`` (UTF-8 text, one
    document per file, or ``.jsonl`` with a ``"text"`` field per line), or None when there
    are none.
    """

    def __init__(
        self,
        scorer: Any = None,
        source_paths: Sequence[str | Path] = (),
        embedder_factory: Callable[[], Embedder] | None = None,
        embedder: str | None = None,
    ) -> None:
        self.scorer = scorer
        # the sentence-embedding model: an alias or a directory (None: all-MiniLM-L6-v2)
        self.embedder_name = embedder
        # decides which samples are the same answer (harness.metrics.novelty); None: the
        # embedding judge on ``embedder``
        self.equivalence: Any = None
        self.source_paths = [Path(p) for p in source_paths]
        self._embedder_factory = embedder_factory
        self._embedder: Embedder | None = None
        self._sources: SourceIndex | None = None
        self._sources_loaded = False
        # per-run memo tables of the overlap metrics
        self.context_indexes: dict[tuple[str, ...], SourceIndex] = {}
        # token log-probabilities by (prompt, text), shared by perplexity and its weights
        self.logprobs: dict[tuple[str, str], list[float]] = {}
        self.match_cache: dict[tuple[str, ...], list[int]] = {}

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            if self._embedder_factory is not None:
                self._embedder = self._embedder_factory()
            else:
                self._embedder = PROVIDERS["embedder"](self.embedder_name)
        return self._embedder

    @property
    def sources(self) -> SourceIndex | None:
        if not self._sources_loaded:
            if self.source_paths:
                self._sources = PROVIDERS["source_index"](
                    read_source_documents(self.source_paths))
            self._sources_loaded = True
        return self._sources


def read_source_documents(paths: Sequence[str | Path]) -> list[str]:
    """Read source-corpus files: a ``.jsonl`` file gives one document per line (its
    ``"text"`` field); any other file is one UTF-8 document."""
    docs: list[str] = []
    for path in map(Path, paths):
        if path.suffix == ".jsonl":
            with path.open(encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    try:
                        docs.append(str(json.loads(line)["text"]))
                    except (ValueError, KeyError, TypeError) as e:
                        raise ValueError(
                            f'{path}:{lineno}: expected a JSON object with a "text" field'
                        ) from e
        else:
            docs.append(path.read_text(encoding="utf-8"))
    return docs


METRICS: dict[str, MetricSpec] = {}
_default_resources: Resources | None = None


def metric(
    name: str,
    *,
    kind: str,
    description: str,
    source: str,
    higher_is: str | None,
    version: int = 1,
    needs: tuple[str, ...] = (),
    bounds: tuple[float | None, float | None] = (None, None),
    pool: str = "mean",
    weight: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as metric ``name`` in ``METRICS``."""
    if kind not in _KINDS:
        raise ValueError(f"metric {name!r}: kind must be one of {_KINDS}, not {kind!r}")
    if higher_is not in _HIGHER_IS:
        raise ValueError(f"metric {name!r}: higher_is must be one of {_HIGHER_IS}")
    if unknown := set(needs) - set(_NEEDS):
        raise ValueError(f"metric {name!r}: unknown needs {sorted(unknown)}")

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in METRICS:
            raise ValueError(f"metric {name!r} is registered twice")
        METRICS[name] = MetricSpec(
            name=name,
            kind=kind,
            fn=fn,
            description=description,
            source=source,
            version=version,
            higher_is=higher_is,
            needs=needs,
            bounds=bounds,
            pool=pool,
            weight=weight,
        )
        return fn

    return register


def get_specs(names: Sequence[str], kind: str | None = None) -> list[MetricSpec]:
    """Return the specs of ``names``; raise ``KeyError`` listing the valid names for an
    unknown one, or ``ValueError`` when a metric is not of ``kind``."""
    specs = []
    for name in names:
        if name not in METRICS:
            raise KeyError(f"unknown metric {name!r}; valid metrics: {', '.join(sorted(METRICS))}")
        spec = METRICS[name]
        if kind is not None and spec.kind != kind:
            valid = ", ".join(sorted(n for n, s in METRICS.items() if s.kind == kind))
            raise ValueError(
                f"metric {name!r} is a {spec.kind}-level metric; {kind}-level: {valid}"
            )
        specs.append(spec)
    return specs


def _finite(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise ArithmeticError(f"metric {name!r} produced {value}; this is a bug in the metric")
    return value


def score_samples(
    names: Sequence[str],
    texts: Sequence[str],
    contexts: Sequence[SampleContext],
    resources: Resources,
) -> dict[str, list[float]]:
    """Return ``{metric name: [one value per text]}`` for the per-sample metrics ``names``.

    Raises ``KeyError`` for an unknown name (the message lists the valid ones),
    ``ValueError`` for a set-level name, and ``MissingResourceError`` when a metric needs
    something unavailable (e.g. ``perplexity`` without a scorer).
    """
    if len(texts) != len(contexts):
        raise ValueError(f"{len(texts)} texts but {len(contexts)} contexts")
    out: dict[str, list[float]] = {}
    for spec in get_specs(names, SAMPLE):
        values = spec.fn(list(texts), list(contexts), resources)
        if len(values) != len(texts):
            raise ArithmeticError(f"metric {spec.name!r} returned {len(values)} values")
        out[spec.name] = [_finite(spec.name, v) for v in values]
    return out


def score_set(
    names: Sequence[str], texts: Sequence[str], resources: Resources | None = None
) -> dict[str, float]:
    """Return ``{metric name: value}`` for the set-level metrics ``names`` over ``texts``
    (the samples of one cell). Raises like ``score_samples``. Without ``resources``, one
    shared default ``Resources()`` is used, so the embedding model loads once per process."""
    global _default_resources
    if resources is None:
        if _default_resources is None:
            _default_resources = Resources()
        resources = _default_resources
    return {
        spec.name: _finite(spec.name, spec.fn(list(texts), resources))
        for spec in get_specs(names, SET)
    }


def score_cell(names: Sequence[str], groups: Sequence[Sequence[str]],
               resources: Resources | None = None) -> dict[str, list[float]]:
    """Return ``{metric name: [one value per group]}`` for the cell-level metrics ``names``
    over ``groups`` (the samples of each input of one cell). Raises like ``score_set``."""
    global _default_resources
    if resources is None:
        if _default_resources is None:
            _default_resources = Resources()
        resources = _default_resources
    out: dict[str, list[float]] = {}
    for spec in get_specs(names, CELL):
        values = spec.fn([list(g) for g in groups], resources)
        if len(values) != len(groups):
            raise ArithmeticError(f"metric {spec.name!r} returned {len(values)} values")
        out[spec.name] = [_finite(spec.name, v) for v in values]
    return out


def with_weights(names: Sequence[str]) -> list[str]:
    """Return ``names`` plus the weight metrics their pooling needs (e.g. ``perplexity``
    brings ``scored_tokens``), each once, in order."""
    out = list(dict.fromkeys(names))
    for name in list(out):
        spec = METRICS.get(name)
        if spec is not None and spec.weight and spec.weight not in out:
            out.append(spec.weight)
    return out
