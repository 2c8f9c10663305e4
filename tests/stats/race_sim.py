"""Simulated races, shared by tests/stats/test_race.py and benchmarks/race.py.

Per-input values of a cell: ``clip(mu_cell + u_input + e, 0, 1)`` with a shared input
effect ``u ~ N(0, tau)`` (what makes paired differences worth pairing) and per-cell noise
``e ~ N(0, sigma)``; clipping keeps the order of the cells' true means. The race sees the
values a round at a time exactly as ``harness.generate.sweep.race`` feeds it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from harness.stats.race import Objective, RaceState


@dataclass
class Outcome:
    dropped_best: bool  # a cell with the largest true mean was dropped
    generations: int  # cell-inputs used (samples per input: 1)
    inputs: int
    winner: str | None  # the one cell left, if one is


def values(mus: list[float], tau: float, sigma: float, n: int,
           rng: np.random.Generator) -> np.ndarray:
    u = rng.normal(0, tau, n)
    return np.clip(np.asarray(mus)[:, None] + u[None, :]
                   + rng.normal(0, sigma, (len(mus), n)), 0, 1)


def run_race(mus: list[float], tau: float, sigma: float, pool: int, batch: int, alpha: float,
             rng: np.random.Generator, margin: float = 0.0) -> Outcome:
    """One race of ``len(mus)`` cells on a pool of ``pool`` inputs, goal best."""
    vals = values(mus, tau, sigma, pool, rng)
    cells = [f"c{k}" for k in range(len(mus))]
    state = RaceState(cells, [Objective("m", True, (0.0, 1.0), margin)], alpha=alpha)
    used = 0
    for start in range(0, pool, batch):
        inputs = list(range(start, min(start + batch, pool)))
        alive = state.survivors
        used += len(alive) * len(inputs)
        state.add_round([str(i) for i in inputs],
                        {c: {"m": {str(i): float(vals[cells.index(c), i]) for i in inputs}}
                         for c in alive})
        if state.decided():
            break
    best = {cells[k] for k, m in enumerate(mus) if m == max(mus)}
    left = state.survivors
    return Outcome(bool(best & set(state.dropped)), used, len(state.order),
                   left[0] if len(left) == 1 else None)


def run_naive(mus: list[float], tau: float, sigma: float, pool: int, batch: int, alpha: float,
              rng: np.random.Generator) -> Outcome:
    """The rule a user writes by hand: after every round, a one-sided paired t-test of each
    cell against the current leader; drop it at p < alpha."""
    vals = values(mus, tau, sigma, pool, rng)
    alive = list(range(len(mus)))
    used = seen = 0
    dropped: set[int] = set()
    for start in range(0, pool, batch):
        stop = min(start + batch, pool)
        used += len(alive) * (stop - start)
        seen = stop
        means = vals[alive, :seen].mean(axis=1)
        lead = alive[int(np.argmax(means))]
        for k in list(alive):
            d = vals[k, :seen] - vals[lead, :seen]
            if k == lead or seen < 3 or d.std() == 0:
                continue
            if stats.ttest_1samp(d, 0, alternative="less").pvalue < alpha:
                alive.remove(k)
                dropped.add(k)
        if len(alive) == 1:
            break
    best = {k for k, m in enumerate(mus) if m == max(mus)}
    return Outcome(bool(best & dropped), used, seen, None)
