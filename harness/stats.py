"""Bootstrap confidence intervals for means and differences of means."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _check(n_resamples: int, alpha: float) -> None:
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, not {n_resamples}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), not {alpha}")


def bootstrap_ci(
    values: Sequence[float], n_resamples: int = 1000, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float, float]:
    """Return ``(mean, lo, hi)``: the sample mean and the percentile-bootstrap
    ``1 - alpha`` interval of the mean (``n_resamples`` resamples with replacement drawn by
    ``numpy.random.default_rng(seed)``; ``lo``/``hi`` are the ``alpha/2`` and
    ``1 - alpha/2`` quantiles of the resampled means, linear interpolation, clamped so
    that ``lo <= mean <= hi``).

    No values: ``(0.0, 0.0, 0.0)`` -- there is nothing to estimate, and NaN would break
    JSON reports and comparisons. One value ``v``: ``(v, v, v)``.
    """
    _check(n_resamples, alpha)
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return 0.0, 0.0, 0.0
    mean = float(x.mean())
    if x.size == 1:
        return mean, mean, mean
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_resamples, x.size))].mean(axis=1)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return mean, float(min(lo, mean)), float(max(hi, mean))


def bootstrap_diff_ci(
    a: Sequence[float],
    b: Sequence[float],
    n_resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float, float]:
    """Return ``(diff, lo, hi)`` for ``diff = mean(b) - mean(a)`` of two independent
    samples (e.g. baseline ``a``, candidate ``b``): each resample draws ``a`` and ``b``
    with replacement independently from one ``numpy.random.default_rng(seed)``; ``lo``/``hi``
    are the percentile interval of the resampled differences.

    If either sample is empty: ``(0.0, 0.0, 0.0)``. If both have one value: ``(d, d, d)``.
    """
    _check(n_resamples, alpha)
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.size == 0 or y.size == 0:
        return 0.0, 0.0, 0.0
    diff = float(y.mean() - x.mean())
    if x.size == 1 and y.size == 1:
        return diff, diff, diff
    rng = np.random.default_rng(seed)
    mx = x[rng.integers(0, x.size, size=(n_resamples, x.size))].mean(axis=1)
    my = y[rng.integers(0, y.size, size=(n_resamples, y.size))].mean(axis=1)
    lo, hi = np.quantile(my - mx, [alpha / 2, 1 - alpha / 2])
    return diff, float(min(lo, diff)), float(max(hi, diff))
