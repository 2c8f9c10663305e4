"""Anytime-valid races: drop a cell once it is confidently beaten, however often one looks.

A race compares cells (variant × grid point) on inputs drawn a batch at a time. After each
round it may drop cells; it stops when the decision is made, the inputs run out or the
budget is spent. Re-testing a t-test after every round and stopping at the first p < 0.05
inflates false decisions far beyond 5% ("peeking"); the tests here are *test
supermartingales*, whose chance of ever crossing ``1/alpha`` is at most ``alpha`` by Ville's
inequality, so they stay valid at every look and whenever the race stops.

The unit is the input, as everywhere in the harness: each round gives one value per input
and cell (a set metric over that input's samples, or the mean of a per-sample metric), and
one *paired difference* per input and pair of cells. Differences of one pair over inputs are
independent draws when inputs are drawn at random from a pool (the seeded order).

**Bounded metrics** (both bounds in the metric's registry entry): the paired difference
``d = v_a - v_b`` (oriented so that higher is better) lies in ``[-R, R]`` with ``R`` the
metric's range; it is rescaled to ``x = (d + R) / 2R`` in [0, 1], and its mean is tracked
by the betting confidence sequence of Waudby-Smith & Ramdas ("Estimating means of bounded
random variables by betting", JRSSB 2023, arXiv:2010.09686, Theorem 3 and Section 5.1:
predictable plug-in bets ``lambda_t`` clipped to ``c/m`` and ``c/(1-m)``, hedged capital).
For a hypothesised mean ``m`` the capital ``K-_t(m) = prod (1 - lambda_i(m) (x_i - m))`` is a
nonnegative supermartingale whenever the true mean is at least ``m``; it is nondecreasing
in ``m`` (each factor is), so rejecting at the boundary ``m0`` rejects every mean above it.
Cell ``a`` is *worse than b by more than the margin* once ``K-_t(m0) >= 1/alpha'`` at
``m0 = (R - margin) / 2R``, i.e. mean d < -margin.

**Unbounded metrics** (perplexity): no confidence sequence for a mean exists without a
bound. The race then tracks the *share of inputs on which one cell beats the other*:
``s_i = 1 if d_i > margin, 1/2 if |d_i| <= margin, 0 otherwise`` (bounded in [0, 1]) and
drops ``a`` once that share is confidently below 1/2 (``b`` beats ``a`` on most inputs,
ties within the margin counting half). The guarantee is then about this share, not the
mean; the docs and the report say so.

**Error control** (goal ``best``): a cell that no other cell beats by more than the margin
(bounded: in mean; unbounded: on most inputs) is dropped only if one of its ``K - 1``
one-sided tests, each at ``alpha / (K - 1)``, falsely rejects: at most ``alpha`` in all
(Bonferroni over the pairs, Ville over time). With several objectives a cell is dropped only
when one other cell beats it on every objective, which still needs one false rejection.
Goal ``baseline``: each cell's hedged two-sided sequence against the first cell at
``alpha / (K - 1)``, so every verdict (better, worse, tied within the margin) is wrong with
probability at most ``alpha`` in all. ``tests/test_race.py`` checks both by simulation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

BET_CAP = 0.75  # c in the clipped bets c/m, c/(1-m): the paper suggests 1/2 or 3/4


def _bets(x: np.ndarray, alpha: float) -> np.ndarray:
    """The predictable plug-in bets ``lambda_t`` (WSR 2023, eq. 26): ``sqrt(2 log(2/alpha) /
    (sigma2_{t-1} t log(1+t)))`` with ``mu_t = (1/2 + sum x) / (t+1)`` and ``sigma2_t =
    (1/4 + sum (x_i - mu_i)^2) / (t+1)``; ``sigma2_0 = 1/4``. Before clipping."""
    t = np.arange(1, len(x) + 1, dtype=float)
    mu = (0.5 + np.cumsum(x)) / (t + 1)
    sq = np.cumsum((x - mu) ** 2)
    sigma2 = np.concatenate([[0.25], (0.25 + sq[:-1]) / t[:-1]]) if len(x) else np.zeros(0)
    return np.sqrt(2 * math.log(2 / alpha) / (sigma2 * t * np.log1p(t)))


def log_capital(x: Sequence[float] | np.ndarray, m: float | np.ndarray, alpha: float,
                side: str) -> np.ndarray:
    """The log capital after each observation of betting that the mean of ``x`` (values in
    [0, 1]) is below ``m`` (``side="below"``: ``prod 1 - lambda (x - m)``, bets clipped to
    ``c/(1-m)``) or above it (``"above"``: ``prod 1 + lambda (x - m)``, clipped to ``c/m``).
    Shape ``(len(x),)`` for a scalar ``m``, ``(len(x), len(m))`` for an array. Large capital
    is evidence against the mean being on the other side of ``m``."""
    xs = np.asarray(x, dtype=float)
    ms = np.atleast_1d(np.asarray(m, dtype=float))
    lam = _bets(xs, alpha)[:, None]
    with np.errstate(divide="ignore"):
        if side == "below":
            cap = np.minimum(lam, BET_CAP / np.maximum(1 - ms, 1e-12))
            terms = np.log1p(-cap * (xs[:, None] - ms))
        elif side == "above":
            cap = np.minimum(lam, BET_CAP / np.maximum(ms, 1e-12))
            terms = np.log1p(cap * (xs[:, None] - ms))
        else:
            raise ValueError(f"side must be 'below' or 'above', not {side!r}")
    out = np.cumsum(terms, axis=0)
    return out[:, 0] if np.ndim(m) == 0 else out


def rejected(x: Sequence[float] | np.ndarray, m: float, alpha: float, side: str) -> int | None:
    """The first observation (1-based) after which the one-sided test rejects "the mean of
    ``x`` is on the other side of ``m``" at level ``alpha`` (capital at or above
    ``1/alpha``), or None. Once rejected, rejected for good (the running intersection)."""
    if not len(x):
        return None
    hit = np.nonzero(log_capital(x, m, alpha, side) >= math.log(1 / alpha))[0]
    return int(hit[0]) + 1 if len(hit) else None


def confidence_sequence(x: Sequence[float] | np.ndarray, alpha: float, grid: int = 1001
                        ) -> tuple[float, float]:
    """The hedged betting confidence sequence for the mean of ``x`` (values in [0, 1]) at
    level ``1 - alpha``, after all of ``x``, as the running intersection over time:
    ``{m : max(K+_t(m), K-_t(m)) / 2 < 1/alpha for every t}`` on a grid of ``grid`` points
    (WSR 2023, Theorem 3 with theta = 1/2). Returns (lo, hi); (0, 1) for no data."""
    if not len(x):
        return 0.0, 1.0
    ms = np.linspace(0.0, 1.0, grid)
    bound = math.log(2 / alpha)
    out = ((log_capital(x, ms, alpha, "below") >= bound)
           | (log_capital(x, ms, alpha, "above") >= bound)).any(axis=0)
    inside = ms[~out]
    if not len(inside):  # the data contradict every mean on the grid: the nearest point
        mean = float(np.mean(x))
        return mean, mean
    return float(inside[0]), float(inside[-1])


# -- one pair of cells on one objective --------------------------------------------------

@dataclass(frozen=True)
class Objective:
    """What a race optimises: a metric, its direction and, when bounded, its range."""

    metric: str
    higher_is_better: bool
    bounds: tuple[float, float] | None  # None: unbounded (the race uses win shares)
    margin: float = 0.0

    def scaled(self, d: np.ndarray) -> np.ndarray:
        """Per-input paired differences (a - b, oriented: positive = a better) as values
        in [0, 1]: rescaled differences when bounded, win shares when not."""
        d = d if self.higher_is_better else -d
        if self.bounds is None:
            return np.where(d > self.margin, 1.0, np.where(d >= -self.margin, 0.5, 0.0))
        span = self.bounds[1] - self.bounds[0]
        return np.clip((d + span) / (2 * span), 0.0, 1.0)

    def worse_at(self) -> float:
        """``m0``: a scaled mean below it means "a worse than b by more than the margin"."""
        if self.bounds is None:
            return 0.5
        span = self.bounds[1] - self.bounds[0]
        return (span - self.margin) / (2 * span)

    def better_at(self) -> float:
        """The mirror of ``worse_at``: above it, a is better than b by more than the margin."""
        return 1.0 - self.worse_at()

    def unscale(self, v: float) -> float:
        """A scaled mean back in the metric's units (bounded), or the win share (not)."""
        if self.bounds is None:
            return v
        span = self.bounds[1] - self.bounds[0]
        d = v * 2 * span - span
        return d if self.higher_is_better else -d


# -- the race ------------------------------------------------------------------------------

@dataclass
class Drop:
    """A cell left the race: when, beaten by which cell, and on what evidence."""

    cell: str
    round: int
    inputs: int  # paired inputs the deciding test had seen
    by: str
    reason: str


@dataclass
class Verdict:
    """Goal ``baseline``: a cell against the first cell."""

    cell: str
    decision: str  # better | worse | tied | undecided
    round: int | None
    lo: float
    hi: float  # the anytime-valid interval of the mean difference (or win share)


@dataclass
class RaceState:
    """What a race has decided so far. ``values[cell][objective][input]`` are the per-input
    values seen; ``order`` the inputs in the order they were drawn."""

    cells: list[str]
    objectives: list[Objective]
    goal: str = "best"
    alpha: float = 0.05
    order: list[str] = field(default_factory=list)
    values: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    dropped: dict[str, Drop] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    rounds: list[list[str]] = field(default_factory=list)
    # the values as columns aligned with ``order`` (NaN where a cell has none), so that a
    # pair's differences are one vector subtraction
    _cols: dict[tuple[str, str], list[float]] = field(default_factory=dict, repr=False)

    @property
    def survivors(self) -> list[str]:
        """Cells still in the race (goal baseline: the first cell and the undecided)."""
        if self.goal == "baseline":
            return [c for c in self.cells
                    if c == self.cells[0] or self.verdicts.get(c, _UNDECIDED).round is None]
        return [c for c in self.cells if c not in self.dropped]

    @property
    def alpha_pair(self) -> float:
        return self.alpha / max(len(self.cells) - 1, 1)

    def add_round(self, inputs: Sequence[str],
                  values: Mapping[str, Mapping[str, Mapping[str, float]]]) -> None:
        """Record one round: ``values[cell][metric][input]`` for the surviving cells on
        ``inputs``; then drop (goal best) or decide (goal baseline) what the evidence now
        allows."""
        self.rounds.append(list(inputs))
        self.order.extend(inputs)
        for cell, by_metric in values.items():
            store = self.values.setdefault(cell, {})
            for metric, per_input in by_metric.items():
                store.setdefault(metric, {}).update(per_input)
        for cell in self.cells:
            for obj in self.objectives:
                got = values.get(cell, {}).get(obj.metric, {})
                self._cols.setdefault((cell, obj.metric), []).extend(
                    float(got[i]) if i in got else math.nan for i in inputs)
        if self.goal == "baseline":
            self._decide_baseline()
        else:
            self._drop_beaten()

    def _diffs(self, a: str, b: str, obj: Objective) -> np.ndarray:
        """Scaled differences a - b over the inputs both have, in the order drawn."""
        d = (np.asarray(self._cols.get((a, obj.metric), []))
             - np.asarray(self._cols.get((b, obj.metric), [])))
        return obj.scaled(d[np.isfinite(d)])

    def _drop_beaten(self) -> None:
        alive = self.survivors
        newly: dict[str, Drop] = {}
        for a in alive:
            for b in alive:
                if a == b or a in newly:
                    continue
                seen, why = [], []
                for obj in self.objectives:
                    x = self._diffs(a, b, obj)
                    at = rejected(x, obj.worse_at(), self.alpha_pair, "below")
                    if at is None:
                        break
                    seen.append(at)
                    why.append(_beaten(obj))
                else:
                    newly[a] = Drop(cell=a, round=len(self.rounds), inputs=max(seen), by=b,
                                    reason="; ".join(why))
        # one round's drops are decided on the same evidence: never drop every cell
        if len(newly) == len(alive):
            keep = min(newly, key=lambda c: newly[c].inputs)
            newly.pop(keep)
        self.dropped.update(newly)

    def _decide_baseline(self) -> None:
        base = self.cells[0]
        obj = self.objectives[0]
        for c in self.cells[1:]:
            if self.verdicts.get(c, _UNDECIDED).round is not None:
                continue
            x = self._diffs(c, base, obj)
            lo, hi = confidence_sequence(x, self.alpha_pair) if len(x) else (0.0, 1.0)
            decision = ("worse" if hi < obj.worse_at() else
                        "better" if lo > obj.better_at() else
                        "tied" if obj.worse_at() < lo and hi < obj.better_at() else
                        "undecided")
            a, b = sorted((obj.unscale(lo), obj.unscale(hi)))
            self.verdicts[c] = Verdict(cell=c, decision=decision,
                                       round=None if decision == "undecided"
                                       else len(self.rounds), lo=a, hi=b)

    def decided(self) -> bool:
        """Goal best: one cell left, or every pair left is tied within the margin on every
        objective. Goal baseline: every cell has a verdict."""
        if self.goal == "baseline":
            return len(self.survivors) == 1
        alive = self.survivors
        if len(alive) <= 1:
            return True
        if any(obj.worse_at() >= obj.better_at() for obj in self.objectives):
            return False  # no margin (or win shares): a tie can never be declared
        for i, a in enumerate(alive):
            for b in alive[i + 1:]:
                for obj in self.objectives:
                    if not self._tied(self._diffs(a, b, obj), obj):
                        return False
        return True

    def _tied(self, x: np.ndarray, obj: Objective) -> bool:
        """Both one-sided tests reject: the mean is above ``worse_at`` and below
        ``better_at`` (the capitals are monotone in m, so the boundary tests decide)."""
        return (rejected(x, obj.worse_at(), self.alpha_pair, "above") is not None
                and rejected(x, obj.better_at(), self.alpha_pair, "below") is not None)

    def interval(self, a: str, b: str, obj: Objective) -> tuple[float, float, int]:
        """The anytime-valid interval of a - b (metric units; win share when unbounded) at
        the level the race decides with (each end one-sided at ``alpha_pair``), and the
        number of paired inputs."""
        x = self._diffs(a, b, obj)
        lo, hi = confidence_sequence(x, 2 * self.alpha_pair) if len(x) else (0.0, 1.0)
        u, v = sorted((obj.unscale(lo), obj.unscale(hi)))
        return u, v, len(x)


_UNDECIDED = Verdict(cell="", decision="undecided", round=None, lo=-math.inf, hi=math.inf)


def _beaten(obj: Objective) -> str:
    if obj.bounds is None:
        return f"{obj.metric}: beaten on most inputs (ties within {obj.margin:g} count half)"
    return f"{obj.metric}: worse by more than {obj.margin:g} in mean"


def mean_interval(values: Sequence[float], bounds: tuple[float, float], alpha: float
                  ) -> tuple[float, float]:
    """The anytime-valid interval (hedged betting sequence) of a cell's mean over its
    inputs, for a metric with both bounds; valid however the race stopped."""
    lo_b, hi_b = bounds
    span = hi_b - lo_b
    x = np.clip((np.asarray(values, dtype=float) - lo_b) / span, 0.0, 1.0)
    lo, hi = confidence_sequence(x, alpha)
    return lo_b + lo * span, lo_b + hi * span
