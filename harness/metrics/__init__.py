"""Metrics: a registry of named, documented metrics and the functions that run them.

``METRICS`` maps each name to its ``MetricSpec``; ``score_samples`` computes per-sample
metrics and ``score_set`` set-level ones. See docs/metrics.md for formulas and sources.
"""

from harness.metrics import constraints as _constraints  # noqa: F401  (registers metrics)
from harness.metrics import diversity as _diversity  # noqa: F401
from harness.metrics import embedding as _embedding  # noqa: F401
from harness.metrics import length as _length  # noqa: F401
from harness.metrics import novelty as _novelty  # noqa: F401
from harness.metrics import overlap as _overlap  # noqa: F401
from harness.metrics import perplexity as _perplexity  # noqa: F401
from harness.metrics import reference as _reference  # noqa: F401
from harness.metrics.embedding import Embedder
from harness.metrics.overlap import SourceIndex, verbatim_overlaps
from harness.metrics.registry import (
    METRICS,
    MetricError,
    MetricSpec,
    MissingResourceError,
    Resources,
    SampleContext,
    applies,
    metric,
    pool_values,
    score_cell,
    score_samples,
    score_set,
    value_bounds,
    with_weights,
)
from harness.metrics.tokenize import tokenize

DEFAULT_METRICS: list[str] = [
    "distinct_1",
    "distinct_2",
    "self_bleu",
    "compression_ratio",
    "mean_length",
    "repetition",
    "ngram_repetition",
    "perplexity",
    "max_verbatim_span",
    "ngram_containment_8",
    "length_words",
    "embedding_diversity",
    "relevance",
    "distinct_answers",
    "degenerate",
]

__all__ = [
    "DEFAULT_METRICS",
    "METRICS",
    "Embedder",
    "MetricSpec",
    "MetricError",
    "MissingResourceError",
    "Resources",
    "SampleContext",
    "SourceIndex",
    "applies",
    "metric",
    "pool_values",
    "value_bounds",
    "score_cell",
    "score_samples",
    "score_set",
    "tokenize",
    "verbatim_overlaps",
    "with_weights",
]

# third-party metrics (entry points "harness.metrics"): their modules register with @metric
from harness.plugins import load as _load_plugins  # noqa: E402

_load_plugins("harness.metrics")
