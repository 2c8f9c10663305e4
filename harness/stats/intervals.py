"""Statistics for nested data: a cell holds *inputs*, each with *n samples*.

The unit of analysis is the input. Samples of one input are not independent draws of the
cell (they share the prompt), so every interval and test here works on one value per
input: the mean of a per-sample metric over that input's samples, or a set metric computed
over them. The choices below were made by simulation (``docs/statistics.md``,
``tests/stats/test_simulation.py``):

- ``cell_interval``: a studentized (bootstrap-t) cluster bootstrap over the per-input
  values when there are at least ``BOOT_T_MIN_INPUTS`` (8) inputs, all with distinct
  values: it covers better than Student's t when per-input values are skewed; Student's t
  over them with k − 1 degrees of freedom for 2–7 inputs (there the bootstrap-t's
  resamples repeat few inputs, and its intervals grow erratic: 10 % of them over 7x the t
  width at 4 inputs) or when more resamples are degenerate (mostly tied input values, as
  pass rates give: the bootstrap-t then turns one-sided and under-covers, 0.81 for a 90 %
  pass rate at 8 inputs); with one input,
  Student's t over that input's samples (the interval then covers *that input* only, and
  says so); with one value, no interval. Intervals are clipped to the values the metric
  can take.
- ``paired_test``: the paired t-test on per-input differences, paired by input id; fewer
  than ``MIN_PAIRS`` pairs is never significant.
- ``adjust``: Holm (family-wise) or Benjamini–Hochberg (false discovery rate) adjusted
  p-values, from statsmodels.
- ``min_detectable`` / ``inputs_needed``: power of the one-sample t-test on the differences
  (noncentral t, statsmodels ``TTestPower``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

ALPHA = 0.05
MIN_PAIRS = 3  # a paired test on fewer inputs is never significant
BOOT_T_MIN_INPUTS = 8
N_RESAMPLES = 2000
MAX_DEGENERATE = 0.01  # share of bootstrap resamples with se* = 0 above which t is used


@dataclass(frozen=True)
class Interval:
    """A cell value over its inputs and its ``1 - alpha`` interval.

    ``mean`` is the mean over inputs of the per-input values; ``lo``/``hi`` are None when
    no interval can be computed (``method`` says why); ``n_inputs`` and ``n_samples`` say
    what it is computed over.
    """

    mean: float
    lo: float | None
    hi: float | None
    n_inputs: int
    n_samples: int
    method: str


METHOD_BOOT_T = "bootstrap-t over inputs"
METHOD_T = "t over inputs"
METHOD_SCALED = "t over inputs on the metric's log scale"
METHOD_LOGIT = "generalized pivot on the logit scale, widened to Johnson's skew-corrected t"
METHOD_ONE_INPUT = "t over the samples of the only input"
METHOD_NONE = "none (a single value)"
SCALED_MIN_INPUTS = 3  # below, the variance of the scale term is unusable (1 df)
_GH = np.polynomial.hermite_e.hermegauss(40)  # nodes, weights for E[f(Z)], Z ~ N(0, 1)


def cell_interval(per_input: Sequence[float], samples: Sequence[Sequence[float]] | None = None,
                  alpha: float = ALPHA, seed: int = 0, n_resamples: int = N_RESAMPLES,
                  n_samples: int | None = None,
                  bounds: tuple[float | None, float | None] = (None, None)) -> Interval:
    """Return the ``Interval`` of the mean of ``per_input`` (one value per input).

    ``samples`` (optional, aligned with ``per_input``): the per-sample values behind each
    input's value of a per-sample metric, used for the sample count and, with a single
    input, for an interval over that input's samples. ``n_samples``: the sample count when
    ``samples`` is not given (a set-level metric: one value per input). ``bounds``: the
    metric's possible values; the interval is clipped to them. A studentized
    bootstrap over inputs draws ``n_resamples`` resamples of the k inputs with
    ``numpy.random.default_rng(seed)``, and takes
    ``mean - q(1 - alpha/2) * se, mean - q(alpha/2) * se`` where ``q`` are quantiles of
    ``(mean* - mean) / se*`` and ``se = sd / sqrt(k)`` (Efron & Tibshirani 1993, ch. 12;
    resampling clusters: Davison & Hinkley 1997, sec. 3.8). Resamples whose inputs are all
    equal (``se* = 0``) are dropped; when they are more than ``MAX_DEGENERATE`` of all, the
    Student-t interval is returned instead.
    """
    iv = _interval(per_input, samples, alpha, seed, n_resamples, n_samples)
    if iv.lo is not None and iv.n_inputs >= SCALED_MIN_INPUTS:
        scaled = scaled_interval(per_input, bounds, alpha)
        if scaled is not None:
            iv = Interval(iv.mean, scaled[0], scaled[1], iv.n_inputs, iv.n_samples,
                          METHOD_SCALED if bounds[1] is None else METHOD_LOGIT)
    if iv.lo is None or iv.hi is None:
        return iv
    return Interval(iv.mean, _clip(iv.lo, bounds), _clip(iv.hi, bounds), iv.n_inputs,
                    iv.n_samples, iv.method)


def _clip(v: float, bounds: tuple[float | None, float | None]) -> float:
    lo, hi = bounds
    if lo is not None:
        v = max(v, lo)
    if hi is not None:
        v = min(v, hi)
    return v


def _interval(per_input: Sequence[float], samples: Sequence[Sequence[float]] | None,
              alpha: float, seed: int, n_resamples: int, n_samples: int | None) -> Interval:
    x = np.asarray(per_input, dtype=np.float64)
    k = int(x.size)
    if n_samples is None:
        n_samples = sum(len(s) for s in samples) if samples is not None else k
    if k == 0:
        return Interval(0.0, None, None, 0, 0, "no interval: no values")
    mean = float(x.mean())
    if k == 1:
        inner = np.asarray(samples[0], dtype=np.float64) if samples is not None else x
        if inner.size < 2:
            return Interval(mean, None, None, 1, n_samples, METHOD_NONE)
        lo, hi = _t_interval(inner, alpha)
        return Interval(mean, lo, hi, 1, n_samples, METHOD_ONE_INPUT)
    if k < BOOT_T_MIN_INPUTS:
        lo, hi = _t_interval(x, alpha)
        return Interval(mean, lo, hi, k, n_samples, METHOD_T)
    se = float(x.std(ddof=1)) / math.sqrt(k)
    if se == 0.0:
        return Interval(mean, mean, mean, k, n_samples, METHOD_BOOT_T)
    rng = np.random.default_rng(seed)
    boot = x[rng.integers(0, k, size=(n_resamples, k))]
    bse = boot.std(axis=1, ddof=1) / math.sqrt(k)
    ok = bse > 0
    if ok.mean() < 1 - MAX_DEGENERATE:
        # mostly tied input values (pass rates, counts): resamples of one repeated value
        # are common and the bootstrap-t turns one-sided (0.81 coverage for a 90% pass
        # rate at 8 inputs); Student t covers them
        lo, hi = _t_interval(x, alpha)
        return Interval(mean, lo, hi, k, n_samples, METHOD_T)
    tstar = (boot.mean(axis=1)[ok] - mean) / bse[ok]
    q_hi, q_lo = np.quantile(tstar, [1 - alpha / 2, alpha / 2])
    return Interval(mean, float(mean - q_hi * se), float(mean - q_lo * se), k, n_samples,
                    METHOD_BOOT_T)


def scaled_interval(per_input: Sequence[float], bounds: tuple[float | None, float | None],
                    alpha: float = ALPHA) -> tuple[float, float] | None:
    """Return a ``1 - alpha`` interval for the mean of a bounded metric's per-input values,
    computed on the scale where such values are nearly symmetric, or None when it does not
    apply (no lower bound, fewer than ``SCALED_MIN_INPUTS`` values, a value on a bound, or
    no spread). The interval always contains the plain mean of the values.

    Bounded below only (perplexity, lengths): ``y = log(x - lo)``, Cox's interval for a
    log-normal mean with a t quantile (``_log_interval``). Bounded on both sides (Self-BLEU,
    distinct-n): ``y = logit((x - lo) / (hi - lo))``, a generalized pivotal interval for the
    mean of a logit-normal variable, widened to Johnson's skew-corrected t over the raw
    values (``_logit_interval``). A skewed metric's mean sits in its long tail, which
    Student's t over the raw values misses with few inputs: docs/statistics.md has the
    coverage of each.
    """
    lo, hi = bounds
    x = np.asarray(per_input, dtype=np.float64)
    k = int(x.size)
    if lo is None or k < SCALED_MIN_INPUTS or not np.all(np.isfinite(x)) or np.any(x <= lo) \
            or (hi is not None and np.any(x >= hi)):
        return None
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        out = _log_interval(x, lo, alpha) if hi is None else _logit_interval(x, lo, hi, alpha)
    if out is None or not (math.isfinite(out[0]) and math.isfinite(out[1])):
        return None
    mean = float(x.mean())
    return min(out[0], mean), max(out[1], mean)


def _log_interval(x: np.ndarray, lo: float, alpha: float) -> tuple[float, float] | None:
    """Cox's interval for a log-normal mean (Land 1972; Zhou & Gao 1997) on ``y = log(x -
    lo)`` with a t quantile: with ``y`` normal, mean ``mu`` and variance ``s2``, the mean of
    ``x`` is ``lo + exp(mu + s2/2)``; the interval is ``mu + s2/2 ± t(k − 1) se``, ``se² =
    s2/k + s2²/(2(k − 1))`` (delta method), mapped back."""
    y = np.log(x - lo)
    k, mu, s2 = y.size, float(y.mean()), float(y.var(ddof=1))
    if not s2 > 0 or not math.isfinite(s2):
        return None
    half = float(_st.t.ppf(1 - alpha / 2, k - 1)) * math.sqrt(s2 / k + s2 ** 2 / (2 * (k - 1)))
    ends = lo + np.exp(mu + s2 / 2 + np.array([-half, half]))  # inf when it overflows
    return float(ends[0]), float(ends[1])


GPQ_DRAWS = 4000  # draws of the generalized pivot (quantile Monte-Carlo SE ~0.3% of width)


@functools.lru_cache(maxsize=64)
def _pivot_draws(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed draws of ``Z ~ N(0, 1)`` and ``U ~ chi²(k − 1)`` (seeded by k): an interval is
    a function of its data alone."""
    rng = np.random.default_rng([20261207, k])
    return rng.standard_normal(GPQ_DRAWS), rng.chisquare(k - 1, GPQ_DRAWS)


def _logit_interval(x: np.ndarray, lo: float, hi: float,
                    alpha: float) -> tuple[float, float] | None:
    """The hull of two intervals for the mean of ``x`` in ``(lo, hi)``:

    1. a generalized pivotal interval (Weerahandi 1993; for the log-normal mean Krishnamoorthy
       & Mathew 2003) assuming ``y = logit((x − lo)/(hi − lo))`` normal: with ``ybar``,
       ``s2`` from the data and draws ``Z ~ N(0,1)``, ``U ~ χ²(k−1)``, the pivots are
       ``σ²* = (k−1) s2 / U`` and ``μ* = ybar − Z sqrt(σ²*/k)``; the mean of ``x`` for each
       is ``θ* = E[g(μ* + σ* Z')]`` (``g`` the inverse scale, by Gauss–Hermite), and the
       interval is the ``α/2`` and ``1 − α/2`` quantiles of ``θ*``. Unlike a delta-method
       interval it keeps the long right tail of the variance's uncertainty at few inputs.
    2. Johnson's modified t (Johnson 1978, JASA 73:536): ``xbar + m3/(6 s² k) ± t(k−1)
       s/sqrt(k)``, ``m3`` the unbiased third central moment: a first-order correction for
       skewness on the raw scale.

    Self-BLEU's logit is itself right-skewed, so (1) alone covered 0.91–0.94 and Johnson's
    alone 0.87–0.93; their hull 0.94–0.97 from 4 inputs up (docs/statistics.md, "Skewed
    metrics"), at 1.2–1.4 times the width of the delta-method interval it replaced.
    """
    k = x.size
    y = _logit((x - lo) / (hi - lo))
    ybar, s2 = float(y.mean()), float(y.var(ddof=1))
    if not s2 > 0 or not math.isfinite(s2):
        return None
    z_draw, u_draw = _pivot_draws(k)
    var = (k - 1) * s2 / u_draw
    mu = ybar - z_draw * np.sqrt(var / k)
    nodes, weights = _GH
    theta = (lo + (hi - lo) * _expit(mu[:, None] + np.sqrt(var)[:, None] * nodes[None, :])) \
        @ weights / weights.sum()
    g_lo, g_hi = np.quantile(theta, [alpha / 2, 1 - alpha / 2])
    xbar, sd = float(x.mean()), float(x.std(ddof=1))
    m3 = float(np.sum((x - xbar) ** 3)) * k / ((k - 1) * (k - 2))
    centre = xbar + m3 / (6 * sd * sd * k) if sd > 0 else xbar
    half = float(_st.t.ppf(1 - alpha / 2, k - 1)) * sd / math.sqrt(k)
    return min(float(g_lo), centre - half), max(float(g_hi), centre + half)


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


def _expit(y: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * y))


def _t_interval(x: np.ndarray, alpha: float) -> tuple[float, float]:
    mean = float(x.mean())
    se = float(x.std(ddof=1)) / math.sqrt(x.size)
    half = float(_st.t.ppf(1 - alpha / 2, x.size - 1)) * se
    return mean - half, mean + half


@dataclass(frozen=True)
class PairedTest:
    """A paired comparison of B with A over the inputs both have.

    ``diff``: mean over paired inputs of ``b - a``; ``lo``/``hi``: its ``1 - alpha``
    Student-t interval; ``p``: the t-test's p-value for ``alternative`` against
    ``diff == margin`` (None when there are fewer than ``MIN_PAIRS`` pairs: never
    significant); ``sd``: the standard deviation of the differences.
    """

    diff: float
    lo: float | None
    hi: float | None
    p: float | None
    n_pairs: int
    sd: float | None


def paired_test(a: Mapping[str, float], b: Mapping[str, float], alpha: float = ALPHA,
                margin: float = 0.0, alternative: str = "two-sided") -> PairedTest:
    """Paired t-test of ``b`` against ``a`` ({input id: value}), over the shared inputs.

    ``alternative``: ``"two-sided"``, ``"greater"`` (``b - a > margin``) or ``"less"``.
    When every difference is equal the test is exact: ``p`` is 0 if that difference lies
    beyond ``margin`` in the alternative's direction, else 1.
    """
    shared = [k for k in a if k in b]
    d = np.asarray([b[k] - a[k] for k in shared], dtype=np.float64)
    n = int(d.size)
    if n == 0:
        return PairedTest(0.0, None, None, None, 0, None)
    diff = float(d.mean())
    if n < MIN_PAIRS:
        return PairedTest(diff, None, None, None, n, float(d.std(ddof=1)) if n > 1 else None)
    sd = float(d.std(ddof=1))
    if sd == 0.0 or not math.isfinite(sd):
        beyond = {"two-sided": diff != margin, "greater": diff > margin,
                  "less": diff < margin}[alternative]
        return PairedTest(diff, diff, diff, 0.0 if beyond else 1.0, n, 0.0)
    lo, hi = _t_interval(d, alpha)
    res = _st.ttest_1samp(d, margin, alternative=alternative)
    return PairedTest(diff, lo, hi, float(res.pvalue), n, sd)


def adjust(pvalues: Sequence[float | None], method: str = "holm") -> list[float | None]:
    """Return adjusted p-values (None stays None): ``"holm"`` controls the family-wise
    error rate under any dependence (Holm 1979); ``"bh"`` the false discovery rate under
    independence or positive dependence (Benjamini & Hochberg 1995). From
    ``statsmodels.stats.multitest.multipletests``."""
    from statsmodels.stats.multitest import multipletests

    idx = [i for i, p in enumerate(pvalues) if p is not None]
    out: list[float | None] = [None] * len(pvalues)
    if not idx:
        return out
    name = {"holm": "holm", "bh": "fdr_bh"}[method]
    adjusted = multipletests([pvalues[i] for i in idx], method=name)[1]
    for i, p in zip(idx, adjusted, strict=True):
        out[i] = float(p)
    return out


def min_detectable(sd: float, n: int, alpha: float = ALPHA, power: float = 0.8,
                   one_sided: bool = True) -> float | None:
    """Return the smallest true mean difference a t-test on ``n`` paired differences with
    standard deviation ``sd`` detects with probability ``power`` at level ``alpha`` (None
    when ``n < MIN_PAIRS``)."""
    if n < MIN_PAIRS or sd is None:
        return None
    if sd == 0:
        return 0.0
    from statsmodels.stats.power import TTestPower

    es = TTestPower().solve_power(nobs=n, alpha=alpha, power=power,
                                  alternative="larger" if one_sided else "two-sided")
    return float(np.asarray(es).item()) * sd


def inputs_needed(sd: float, effect: float, alpha: float = ALPHA, power: float = 0.8,
                  one_sided: bool = True, cap: int = 100_000) -> int | None:
    """Return how many paired inputs a t-test needs to detect a true difference ``effect``
    with probability ``power`` at level ``alpha`` (None if ``effect`` is 0 or more than
    ``cap`` would be needed)."""
    if effect <= 0 or sd is None or not math.isfinite(sd):
        return None
    if sd == 0:
        return MIN_PAIRS
    lo, hi = MIN_PAIRS, MIN_PAIRS
    while (min_detectable(sd, hi, alpha, power, one_sided) or math.inf) > effect:
        if hi >= cap:
            return None
        lo, hi = hi, min(cap, hi * 2)
    while lo < hi:  # smallest n in [lo, hi] that detects ``effect``
        mid = (lo + hi) // 2
        if (min_detectable(sd, mid, alpha, power, one_sided) or math.inf) <= effect:
            hi = mid
        else:
            lo = mid + 1
    return hi
