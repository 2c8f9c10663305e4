"""Tolerances for values computed from float32 model outputs, derived from float32
arithmetic instead of tuned on one machine.

float32 rounds every operation with unit roundoff u = 2**-24. A sum (or dot product) of n
terms taken in another order, as another kernel, batch or thread count takes it, can differ
by up to gamma_n = n·u / (1 - n·u) relative to the sum of the terms' magnitudes (Higham,
*Accuracy and Stability of Numerical Algorithms*, 2002, §3.1); two such computations, by
twice that. A value is trusted to that bound for the longest float32 reduction behind it:

- cosine-based metrics (embedding diversity, cross-input similarity, relevance): the
  embedder's longest reduction is its 1,536-wide feed-forward layer, and a cosine of unit
  vectors moves by at most the relative error of its vectors, so an absolute 2·gamma_1536
  (1.8e-4) on values in [-1, 2];
- perplexity and what is computed from it: the scorer's longest reduction is the
  log-softmax over the 49,152-token vocabulary, so a relative 2·gamma_49152 (5.9e-3).

Observed differences are far smaller (issue 29: 2.7e-8 on an embedding diversity between
two batchings): the bound says what float32 allows, not what one machine happened to give.
Texts are never compared with a tolerance: they must be equal.
"""

from __future__ import annotations

import math
from typing import Any

U = 2.0 ** -24  # float32 unit roundoff
EMBEDDER_REDUCTION = 1536  # all-MiniLM-L6-v2's feed-forward width
SCORER_REDUCTION = 49152  # SmolLM2's vocabulary: the log-softmax behind a log-probability


def gamma(n: int) -> float:
    """Higham's gamma_n = n·u / (1 - n·u): the relative error bound of an n-term sum."""
    return n * U / (1 - n * U)


COSINE_ABS = 2 * gamma(EMBEDDER_REDUCTION)
PERPLEXITY_REL = 2 * gamma(SCORER_REDUCTION)


def float32_close(a: Any, b: Any, *, rel: float = 0.0, abs_: float = 0.0) -> bool:
    """Whether two floats agree within ``rel`` (relative) or ``abs_`` (absolute)."""
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def differences(a: Any, b: Any, tolerance: Any, path: str = "") -> list[str]:
    """Where two JSON-like structures differ: every key, length, string, integer and
    None exactly; floats within ``tolerance(path)`` = (rel, abs) for their path (keys
    joined by '/'). Returns the differing paths with both values."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(set(a) ^ set(b))}"]
        return [d for k in a for d in differences(a[k], b[k], tolerance, f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} against {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in differences(x, y, tolerance, f"{path}/{i}")]
    if isinstance(a, float) and isinstance(b, float) and not (a == b or (a != a and b != b)):
        rel, abs_ = tolerance(path)
        return [] if float32_close(a, b, rel=rel, abs_=abs_) else [f"{path}: {a!r} != {b!r}"]
    if isinstance(a, float) or isinstance(b, float):
        return [] if a == b or (a != a and b != b) else [f"{path}: {a!r} != {b!r}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]
