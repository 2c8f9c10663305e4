"""The metric registry: ``@metric`` registers a function in ``METRICS``; ``score_samples``
and ``score_set`` run named metrics over a batch of texts.

Three kinds of metric:

- ``"sample"``: ``fn(texts, contexts, resources) -> list[float]``, one value per text. It
  receives the whole batch so model-based metrics (perplexity, embeddings) can batch.
- ``"set"``: ``fn(texts, resources) -> float``, one value for a set: the samples of one
  input in one cell (one prompt).
- ``"cell"``: ``fn(groups, resources) -> list[float]``, given the samples of every input of
  a cell (one list of texts per input), one value per input that looks *across* inputs
  (e.g. how similar an input's samples are to other inputs' samples).

Every value is a finite float: empty texts, single-sample sets and one-token texts get a
defined value that each metric documents. What a metric returns is checked before it is
used or stored: anything but a finite real number (NaN, ±inf, None, a string, a complex
number, a list, an int too large for a float), or the wrong number of values, stops the
scoring with a ``MetricError`` (exit 2) naming the metric and, for a plugin's metric, the
plugin; so does an exception raised inside a plugin's metric. A built-in metric doing so
is a bug in the harness (``ArithmeticError``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import BadValue, InputError, UnknownName
from harness.metrics.resources import MissingResourceError, Resources, SampleContext
from harness.plugins import loading

# SampleContext, Resources and MissingResourceError live in harness.metrics.resources and
# are named here too: a plugin's metric imports them beside ``metric`` (docs/extending.md)
__all__ = ["CELL", "METRICS", "SAMPLE", "SET", "MetricError", "MetricSpec",
           "MissingResourceError", "Resources", "SampleContext", "applies", "get_specs",
           "metric", "pool_values", "score_cell", "score_samples", "score_set",
           "value_bounds", "with_weights"]

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
    # a count of distinct samples (distinct answers, Vendi): at most the set size
    counts_samples: bool = False
    plugin: str | None = None  # the entry point that registered it; None: built in

    @property
    def label(self) -> str:
        """``metric 'name'``, with ``(plugin 'p')`` for a plugin's metric: for messages."""
        return f"metric {self.name!r}" + (f" (plugin {self.plugin!r})" if self.plugin else "")


class MetricError(InputError):
    """A plugin's metric failed, or returned something that is not one finite number per
    text (set, input); the message names the metric and its plugin."""


def value_bounds(spec: MetricSpec | None, set_size: float | None = None
                 ) -> tuple[float | None, float | None]:
    """The values a metric can take: its ``bounds``, and for a metric that counts distinct
    samples at most ``set_size`` (the samples per input; the largest when they differ)."""
    if spec is None:
        return (None, None)
    lo, hi = spec.bounds
    if spec.counts_samples and set_size:
        hi = set_size if hi is None else min(hi, set_size)
    return lo, hi


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
    counts_samples: bool = False,
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
            plugin=loading(),
            counts_samples=counts_samples,
        )
        return fn

    return register


def get_specs(names: Sequence[str], kind: str | None = None) -> list[MetricSpec]:
    """Return the specs of ``names``; raise ``UnknownName`` (a ``KeyError``) listing the
    valid names for an unknown one, or ``BadValue`` (a ``ValueError``) when a metric is not
    of ``kind``."""
    specs = []
    for name in names:
        if name not in METRICS:
            raise UnknownName(f"unknown metric {name!r}; valid metrics: "
                              f"{', '.join(sorted(METRICS))}")
        spec = METRICS[name]
        if kind is not None and spec.kind != kind:
            valid = ", ".join(sorted(n for n, s in METRICS.items() if s.kind == kind))
            raise BadValue(
                f"metric {name!r} is a {spec.kind}-level metric; {kind}-level: {valid}"
            )
        specs.append(spec)
    return specs


def _bad(spec: MetricSpec, problem: str) -> Exception:
    """The error for a metric that misbehaved: a plugin's is bad input (``MetricError``),
    a built-in one's a bug."""
    if spec.plugin:
        return MetricError(f"{spec.label} {problem}; fix or uninstall the plugin (what was "
                           "generated is stored, and a run reuses it)")
    return ArithmeticError(f"{spec.label} {problem}; this is a bug in the metric")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _finite(spec: MetricSpec, value: Any, where: str = "") -> float:
    """``value`` as a float when it is a finite real number, else the error ``_bad`` gives.
    Real numbers are Python's and numpy's ints, floats and bools."""
    if isinstance(value, str | bytes | complex) or not hasattr(value, "__float__"):
        raise _bad(spec, f"returned {_show(value)}{where}, not a number")
    try:
        number = float(value)
    except (OverflowError, ValueError, TypeError) as exc:
        raise _bad(spec, f"returned {_show(value)}{where}, not a finite float ({exc})") from None
    if not math.isfinite(number):
        raise _bad(spec, f"returned {number}{where}, not a finite number")
    return number


def _values(spec: MetricSpec, values: Any, n: int, of: str) -> list[float]:
    """One finite float per item from a sample or cell metric's return value."""
    if isinstance(values, str | bytes | dict) or not hasattr(values, "__len__"):
        raise _bad(spec, f"returned {_show(values)}, not a list of {n} numbers (one per {of})")
    if len(values) != n:
        raise _bad(spec, f"returned {len(values)} values for {n} {of}s")
    return [_finite(spec, v, f" ({of} {i + 1} of {n})") for i, v in enumerate(values)]


def _call(spec: MetricSpec, *args: Any) -> Any:
    """Run a metric's function; an exception from a plugin's names the metric and plugin
    (and where it was raised), except ``MissingResourceError``, which says what to do."""
    if not spec.plugin:
        return spec.fn(*args)
    try:
        return spec.fn(*args)
    except MissingResourceError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a plugin raises is named
        import traceback

        frames = traceback.extract_tb(exc.__traceback__)
        at = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise _bad(spec, f"failed{at}: {type(exc).__name__}: {first}") from None


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
        values = _call(spec, list(texts), list(contexts), resources)
        out[spec.name] = _values(spec, values, len(texts), "text")
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
        spec.name: _finite(spec, _call(spec, list(texts), resources))
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
        values = _call(spec, [list(g) for g in groups], resources)
        out[spec.name] = _values(spec, values, len(groups), "input")
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
