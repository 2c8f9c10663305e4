"""Agreement and preference statistics for LLM judges and human ratings.

Every function returns an ``Estimate``: a value, its 95% interval, what it is computed
over, and one line saying how (or why there is no value or no interval). The interval
methods were chosen by simulation and their coverage is asserted in
``tests/stats/test_agreement.py`` (numbers in ``docs/statistics.md``, "Agreement, judges
and human ratings"). The units a judge or a rater sees (texts, inputs) are what was
sampled, so every interval leaves out whole units or inputs, never single ratings or
single judgments:

- ``krippendorff_alpha``: reliability of repeated judge calls or of human raters,
  ``alpha = 1 - D_o / D_e`` (Krippendorff 2011), value from the PyPI ``krippendorff``
  package; interval: leave-one-unit-out jackknife on Fisher's intraclass z, Student t.
- ``rank_correlation``: Spearman's rho (judge score vs human score), Fisher-z interval with
  the Bonett & Wright (2000) variance; with clusters (several samples of one input) a
  leave-one-cluster-out jackknife on z, Student t.
- ``bradley_terry``: strengths of prompt variants from pairwise A-vs-B judgments, fitted
  with the PyPI ``choix`` package; interval: leave-one-cluster-out jackknife, Student t.
  ``win_probability`` turns two strengths into P(i beats j).
- ``share``: a proportion with its Wilson score interval.

The three jackknife intervals replace the percentile bootstraps first planned: with the
numbers of units and inputs an evaluation has (10-50 units, 4-20 inputs) the percentile
bootstrap covered 0.84-0.94 instead of 0.95 in our simulations, the jackknife 0.93-0.985.
They are deterministic: no seed, no number of resamples. The coincidence-matrix arithmetic
of alpha and its leave-one-out values is ``harness.stats.coincidence``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from scipy import stats as _st

from harness.stats.coincidence import alpha_jackknife

LEVELS = ("nominal", "ordinal", "interval", "ratio")
CONFIDENCE = 0.95
Z = float(_st.norm.ppf(0.5 + CONFIDENCE / 2))  # 1.959964...
ALPHA_MIN_UNITS = 20  # fewer pairable units: alpha without an interval
PACKAGE_MAX_CELLS = 2_000_000  # krippendorff 0.9.0 holds units x values^2 floats at once
MAX_VALUES_MATRIX = 3000  # most distinct values for the ratio level (values^2 matrix)
RHO_MIN_PAIRS = 4
RHO_MIN_CLUSTERS = 4
BT_PRIOR_TIES = 1.0  # virtual drawn matches between every pair of players
BT_MIN_CLUSTERS = 4  # fewer clusters: strengths without an interval


@dataclass(frozen=True)
class Estimate:
    """A statistic with its 95% interval.

    ``value``: the point estimate (None when it cannot be computed); ``lo``/``hi``: the
    interval (None when there is none); ``n``: what it is computed over (units, pairs,
    matches: each function says); ``method``: one printable line saying how the value and
    interval were computed, or why there is none.
    """

    value: float | None
    lo: float | None
    hi: float | None
    n: int
    method: str

    def as_dict(self) -> dict[str, Any]:
        """``{"value", "lo", "hi", "n", "method"}`` with plain Python types (JSON-able)."""
        return {"value": _num(self.value), "lo": _num(self.lo), "hi": _num(self.hi),
                "n": int(self.n), "method": self.method}


def _num(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def _none(n: int, why: str) -> Estimate:
    return Estimate(None, None, None, n, why)


def _t(df: int) -> float:
    return float(_st.t.ppf(0.5 + CONFIDENCE / 2, df))


def _jackknife_se(values: np.ndarray) -> float:
    """Delete-one jackknife standard error: ``sqrt((k - 1) / k * sum (v_i - mean v)^2)``
    (Efron & Tibshirani 1993, ch. 11)."""
    k = values.size
    return math.sqrt((k - 1) / k * float(((values - values.mean()) ** 2).sum()))


# ------------------------------------------------------------------ Krippendorff's alpha


def krippendorff_alpha(ratings: Sequence[Sequence[float | None]], level: str = "interval"
                       ) -> Estimate:
    """Krippendorff's alpha of ``ratings[u][c]`` (unit ``u``: a judged text; coder ``c``: a
    judge repeat or a human rater; None or NaN: missing; rows may differ in length).

    ``alpha = 1 - D_o / D_e = 1 - (n - 1) * sum_ck o_ck d_ck / sum_ck n_c n_k d_ck``, where
    ``o_ck`` is the coincidence matrix (each unit with ``m_u >= 2`` values adds every ordered
    pair of its values with weight ``1 / (m_u - 1)``), ``n_c`` its margins, ``n`` the number
    of pairable values and ``d_ck`` the squared difference of the ``level``: nominal
    ``[c != k]``, ordinal ``(sum_{g=c..k} n_g - (n_c + n_k) / 2)^2``, interval ``(c - k)^2``,
    ratio ``((c - k) / (c + k))^2`` (Krippendorff 2011, "Computing Krippendorff's
    Alpha-Reliability"). 1 is perfect agreement, 0 agreement at chance level, below 0
    systematic disagreement. For interval data from coders who each add independent noise
    to a true value, alpha estimates ``var(true) / (var(true) + var(noise))``. The value is
    the PyPI ``krippendorff`` package's (for data too large for its memory use, the same
    formulas in ``harness.stats.coincidence`` give it).

    ``n``: the number of units with at least 2 ratings (the others carry no information on
    agreement and are left out). Interval, from ``ALPHA_MIN_UNITS`` (20) such units: a
    leave-one-unit-out jackknife on Fisher's z for an intraclass correlation,
    ``z = 1/2 log((1 + (k - 1) alpha) / (1 - alpha))`` with ``k`` the mean number of ratings
    per unit (Fisher 1925, *Statistical Methods for Research Workers*, ch. 7), ``se`` the
    jackknife standard error of ``z`` over the ``n`` leave-one-out alphas, interval
    ``z -/+ t_{n-1} se`` transformed back. Measured
    coverage of the population alpha (``test_agreement.py``, docs/statistics.md): 0.93-0.96
    for interval, ordinal and nominal data on continuous and 5-point scales with 10-50 units
    and 2-5 coders; 0.93-0.98 for yes/no ratings with 20 or more units. A percentile
    bootstrap (as Hayes & Krippendorff 2007 bootstrap alpha, here resampling units) covered
    0.84-0.87 with 10 units, 0.89-0.93 with 20-30 and 0.92-0.94 with 50, because alpha is
    biased low and skewed in small samples.

    No value (``value`` None) with fewer than 2 units with 2 or more ratings, or when every
    rating is the same value (``D_e = 0``: alpha is 0/0).
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    rows = [[math.nan if v is None else float(v) for v in row] for row in ratings]
    width = max((len(r) for r in rows), default=0)
    data = np.full((len(rows), width), np.nan)
    for i, r in enumerate(rows):
        data[i, :len(r)] = r
    if level == "ratio" and np.any(data[np.isfinite(data)] < 0):
        raise ValueError("the ratio level needs non-negative ratings")
    data = data[np.isfinite(data).sum(axis=1) >= 2]
    n = int(data.shape[0])
    if n < 2:
        return _none(n, f"no value: {n} unit(s) with 2 or more ratings; alpha needs 2")
    domain = np.unique(data[np.isfinite(data)])
    if domain.size < 2:
        return _none(n, f"no value: every rating is {domain[0]:g} (no variation: alpha is 0/0)")
    if level == "ratio" and domain.size > MAX_VALUES_MATRIX:
        raise ValueError(f"{domain.size} distinct ratings are too many for the {level} "
                         f"level (at most {MAX_VALUES_MATRIX}); round them")
    # value counts: counts[u, v] = how many coders gave unit u the value domain[v]
    counts = np.zeros((n, domain.size), dtype=np.int64)
    unit, coder = np.nonzero(np.isfinite(data))
    np.add.at(counts, (unit, np.searchsorted(domain, data[unit, coder])), 1)
    full, loo = alpha_jackknife(counts, domain, level)
    if n * domain.size ** 2 <= PACKAGE_MAX_CELLS:
        import krippendorff

        value = float(krippendorff.alpha(value_counts=counts, value_domain=domain,
                                         level_of_measurement=cast(Any, level)))
    else:
        value = full
    head = f"Krippendorff's alpha ({level}) over {n} units"
    if n < ALPHA_MIN_UNITS:
        return Estimate(value, None, None, n,
                        f"{head}; no interval: fewer than {ALPHA_MIN_UNITS} units")
    if not np.all(np.isfinite(loo)):
        return Estimate(value, None, None, n, f"{head}; no interval: leaving out one unit "
                                              "leaves no variation")
    k = float(counts.sum()) / n  # mean number of ratings per unit
    lo, hi = _intraclass_z_interval(value, loo, k)
    return Estimate(value, lo, hi, n, f"{head}; 95% leave-one-unit-out jackknife on Fisher's "
                                      f"intraclass z, t with {n - 1} df")


def _intraclass_z_interval(value: float, loo: np.ndarray, k: float) -> tuple[float, float]:
    """``value`` -/+ t_{U-1} jackknife se on Fisher's intraclass z scale, back-transformed."""
    if np.all(loo == value):
        return value, value
    eps = 1e-12
    lo_a = -1 / (k - 1) + eps

    def z(a: np.ndarray | float) -> np.ndarray:
        a = np.clip(a, lo_a, 1 - eps)
        return np.asarray(0.5 * np.log((1 + (k - 1) * a) / (1 - a)))

    def back(zz: float) -> float:
        e = math.exp(2 * zz) if zz < 350 else math.inf
        return 1.0 if math.isinf(e) else (e - 1) / (e + k - 1)

    half = _t(loo.size - 1) * _jackknife_se(z(loo))
    centre = float(z(value))
    return back(centre - half), back(centre + half)


# ----------------------------------------------------------------------- rank correlation


def rank_correlation(x: Sequence[float | None], y: Sequence[float | None], *,
                     clusters: Sequence[str] | None = None) -> Estimate:
    """Spearman's rank correlation of ``x`` and ``y`` (e.g. judge score and human score of
    the same texts) with a 95% interval.

    The value is ``scipy.stats.spearmanr`` (Pearson's correlation of the ranks; ties get
    their mean rank). Pairs where either side is None or NaN are dropped; ``n`` is the number
    of pairs used. No value with fewer than 4 pairs or when a side is constant.

    Without ``clusters`` (independent pairs): Fisher's z with the Bonett & Wright (2000)
    variance for Spearman's rho, ``z = atanh(rho)``, ``se = sqrt((1 + rho^2 / 2) / (n - 3))``,
    interval ``tanh(z -/+ 1.96 se)`` (Bonett & Wright 2000, Psychometrika 65: 23-28).
    Measured coverage (bivariate normal, rho 0 / 0.5 / 0.8, n 20 / 60): 0.955-0.97.

    With ``clusters`` (one label per pair, e.g. the input a sample was generated from:
    samples of one input are not independent), the value is still Spearman's rho over all
    pairs, and the interval is a leave-one-cluster-out jackknife on the z scale with Student
    t on K - 1 degrees of freedom (K clusters): ``z_(k) = atanh(rho without cluster k)``,
    ``se`` their jackknife standard error, interval ``tanh(z -/+ t_{K-1} se)`` (the
    delete-a-group jackknife: Efron & Tibshirani 1993, ch. 11). Chosen by simulation (4
    samples per cluster, half the variance between clusters): it covered 0.935-0.98 with
    4-20 clusters, where the Fisher interval that ignores the clusters covered 0.86-0.92 and
    a percentile cluster bootstrap 0.85-0.96 (0.85-0.94 with 6-8 clusters). Fisher's z on
    cluster means was rejected: it estimates the correlation of the inputs' means, another
    quantity. With fewer than 4 clusters there is no interval; when every cluster holds one
    pair, the pairs are independent and the Fisher interval is used.
    """
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length ({len(x)} and {len(y)})")
    if clusters is not None and len(clusters) != len(x):
        raise ValueError(f"clusters has {len(clusters)} labels for {len(x)} pairs")
    xs = np.array([math.nan if v is None else float(v) for v in x], dtype=np.float64)
    ys = np.array([math.nan if v is None else float(v) for v in y], dtype=np.float64)
    keep = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[keep], ys[keep]
    n = int(xs.size)
    if n < RHO_MIN_PAIRS:
        return _none(n, f"no value: {n} pair(s); Spearman's rho needs {RHO_MIN_PAIRS}")
    for name, side in (("x", xs), ("y", ys)):
        if np.ptp(side) == 0:
            return _none(n, f"no value: {name} is constant ({side[0]:g})")
    rho = float(_st.spearmanr(xs, ys).statistic)
    z = math.atanh(_clip_r(rho))
    if clusters is None:
        return _fisher(rho, z, n, f"Spearman's rho over {n} pairs; 95% Fisher z, "
                                  "Bonett-Wright variance")
    labels = [c for c, kept in zip(clusters, keep.tolist(), strict=True) if kept]
    index: dict[str, int] = {}
    cluster_of = np.array([index.setdefault(c, len(index)) for c in labels])
    k = len(index)
    head = f"Spearman's rho over {n} pairs in {k} clusters"
    if k == n:
        return _fisher(rho, z, n, f"{head}; 95% Fisher z, Bonett-Wright variance "
                                  "(one pair per cluster: independent pairs)")
    if k < RHO_MIN_CLUSTERS:
        return Estimate(rho, None, None, n,
                        f"{head}; no interval: fewer than {RHO_MIN_CLUSTERS} clusters")
    loo = []
    for j in range(k):
        rest = cluster_of != j
        xr, yr = xs[rest], ys[rest]
        if xr.size < RHO_MIN_PAIRS or np.ptp(xr) == 0 or np.ptp(yr) == 0:
            return Estimate(rho, None, None, n, f"{head}; no interval: leaving out one "
                                                "cluster leaves too few or constant pairs")
        loo.append(math.atanh(_clip_r(float(_st.spearmanr(xr, yr).statistic))))
    half = _t(k - 1) * _jackknife_se(np.asarray(loo))
    return Estimate(rho, math.tanh(z - half), math.tanh(z + half), n,
                    f"{head}; 95% leave-one-cluster-out jackknife on Fisher z, t with "
                    f"{k - 1} df")


def _clip_r(r: float) -> float:
    return min(max(r, -1 + 1e-12), 1 - 1e-12)


def _fisher(rho: float, z: float, n: int, method: str) -> Estimate:
    half = Z * math.sqrt((1 + rho ** 2 / 2) / (n - 3))
    return Estimate(rho, math.tanh(z - half), math.tanh(z + half), n, method)


# --------------------------------------------------------------------- Bradley-Terry

Match = tuple[str, str, float, str]
"""``(a, b, outcome for a, cluster)``: outcome 1 a won, 0 b won, 0.5 a tie; cluster: the
unit that was sampled (usually the input both texts answer)."""


def bradley_terry(matches: Sequence[Match]) -> dict[str, Estimate]:
    """Bradley-Terry log-strengths of the players (prompt variants) in ``matches``.

    Model: P(i beats j) = ``exp(s_i) / (exp(s_i) + exp(s_j))`` (Bradley & Terry 1952;
    ``win_probability``). The strengths are log-strengths centred to mean 0 over the
    players, so only differences mean something: ``s_i - s_j`` is the log-odds that i beats
    j. A tie counts as half a win for each side (any outcome in [0, 1] is credited the same
    way: ``outcome`` to a, ``1 - outcome`` to b).

    Fit: maximum likelihood by ``choix.ilsr_pairwise_dense`` (I-LSR, Maystre & Grossglauser
    2015, on the matrix of wins; the dense variant of ``choix.ilsr_pairwise`` because it
    takes the fractional wins that ties give, and converges to the same MLE), after adding
    ``BT_PRIOR_TIES`` (1) virtual drawn match between every pair of players, i.e. half a
    virtual win each way. That is the regularisation: without it a player who won every
    match has an infinite strength (the MLE exists only when every player has lost to and
    beaten someone, directly or through others: Ford 1957); with it every strength is
    finite, and with two players ``s_a - s_b = log((w_a + 1/2) / (w_b + 1/2))``, the
    Haldane-Anscombe corrected log-odds (Anscombe 1956). It pulls strengths slightly towards
    0: by 9% with 13 games per pair (the 1987 baseball example in ``test_agreement.py``).

    ``n`` of each player: the matches it played. Interval, from ``BT_MIN_CLUSTERS`` (4)
    clusters (the 4th element of each match): leave-one-cluster-out jackknife, ``s -/+
    t_{K-1} se`` with ``se`` the jackknife standard error of the K refits without one
    cluster each. Leaving out whole clusters keeps the dependence between judgments of one
    input. Measured coverage (3 players, strengths -0.5 / 0 / 0.5, with and without an input
    effect, ``test_agreement.py``): 0.93-0.985 with 4-20 clusters; the percentile cluster
    bootstrap covered 0.84-0.90 with 8 clusters and 0.90-0.97 with 20.

    Returns ``{player: Estimate}`` in order of first appearance; empty without matches.
    """
    players: dict[str, int] = {}
    cluster_ids: dict[str, int] = {}
    for a, b, outcome, cluster in matches:
        if a == b:
            raise ValueError(f"a match of {a!r} against itself")
        if not 0.0 <= float(outcome) <= 1.0:
            raise ValueError(f"outcome {outcome!r} for {a!r} vs {b!r} is not in [0, 1]")
        for p in (a, b):
            players.setdefault(p, len(players))
        cluster_ids.setdefault(cluster, len(cluster_ids))
    p_count, k = len(players), len(cluster_ids)
    if p_count == 0:
        return {}
    per_cluster = np.zeros((k, p_count, p_count))
    played = np.zeros(p_count, dtype=np.int64)
    for a, b, outcome, cluster in matches:
        i, j, c = players[a], players[b], cluster_ids[cluster]
        per_cluster[c, i, j] += float(outcome)
        per_cluster[c, j, i] += 1.0 - float(outcome)
        played[[i, j]] += 1
    prior = BT_PRIOR_TIES / 2 * (1 - np.eye(p_count))
    wins = per_cluster.sum(axis=0)
    s = _bt_fit(wins + prior)
    head = (f"Bradley-Terry log-strength (mean 0 over {p_count} players; ties half a win; "
            f"{BT_PRIOR_TIES:g} virtual tie per pair) by choix I-LSR")
    if k < BT_MIN_CLUSTERS:
        method = f"{head}; no interval: {k} cluster(s), the jackknife needs {BT_MIN_CLUSTERS}"
        return {p: Estimate(float(s[i]), None, None, int(played[i]), method)
                for p, i in players.items()}
    loo = np.stack([_bt_fit(np.maximum(wins - per_cluster[c], 0) + prior, s)
                    for c in range(k)])
    se = np.sqrt((k - 1) / k * ((loo - loo.mean(axis=0)) ** 2).sum(axis=0))
    half = _t(k - 1) * se
    method = f"{head}; 95% leave-one-cluster-out jackknife over {k} clusters, t with {k - 1} df"
    return {p: Estimate(float(s[i]), float(s[i] - half[i]), float(s[i] + half[i]),
                        int(played[i]), method)
            for p, i in players.items()}


def _bt_fit(wins: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """Centred BT log-strengths from ``wins[i, j]`` (i's wins over j, fractional allowed)."""
    import choix

    s = np.asarray(choix.ilsr_pairwise_dense(wins, initial_params=start, max_iter=1000,
                                             tol=1e-10), dtype=np.float64)
    return s - s.mean()


def win_probability(s_i: float, s_j: float) -> float:
    """P(i beats j) under the Bradley-Terry model: ``exp(s_i) / (exp(s_i) + exp(s_j))`` =
    ``1 / (1 + exp(s_j - s_i))``, for log-strengths returned by ``bradley_terry``."""
    return 1.0 / (1.0 + math.exp(s_j - s_i))


# ------------------------------------------------------------------------------ share


def share(successes: int, n: int) -> Estimate:
    """The proportion ``successes / n`` with its 95% Wilson score interval (Wilson 1927;
    recommended over the Wald interval by Brown, Cai & DasGupta 2001, Statistical Science
    16: 101-133): ``(p + z^2 / 2n -/+ z sqrt(p (1 - p) / n + z^2 / 4n^2)) / (1 + z^2 / n)``
    with ``z = 1.96``. For a position-bias rate, a parse-failure rate, a judge-human
    agreement rate. No value when ``n`` is 0."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return _none(0, "no value: n = 0")
    p = successes / n
    denom = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denom
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / denom
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), n,
                    f"share of {n}; 95% Wilson score interval")
