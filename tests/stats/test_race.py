"""The race (harness.stats.race): its betting confidence sequences against their definition, and
its error control and savings by simulation (docs/statistics.md, "Races")."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.stats.race import Objective, RaceState, confidence_sequence, log_capital, rejected
from tests.stats.race_sim import run_naive, run_race

ALPHA = 0.05


def test_log_capital_is_the_product_of_the_paper():
    """K-_t(m) = prod_{i<=t} (1 - min(lambda_i, c/(1-m)) (x_i - m)) with the predictable
    plug-in bets written out by hand from WSR 2023 (eq. 26)."""
    x = [0.2, 0.9, 0.4, 0.35, 0.6, 0.1]
    m, alpha, c = 0.55, 0.05, 0.75
    mu_prev, sq, cap = 0.5, 0.0, 1.0
    want = []
    for t, xi in enumerate(x, 1):
        sigma2_prev = 0.25 if t == 1 else (0.25 + sq) / t
        lam = math.sqrt(2 * math.log(2 / alpha) / (sigma2_prev * t * math.log(1 + t)))
        cap *= 1 - min(lam, c / (1 - m)) * (xi - m)
        want.append(math.log(cap))
        mu = (0.5 + sum(x[:t])) / (t + 1)
        sq += (xi - mu) ** 2
        mu_prev = mu
    assert mu_prev > 0
    np.testing.assert_allclose(log_capital(x, m, alpha, "below"), want, rtol=1e-12)


def test_capital_is_monotone_in_the_hypothesised_mean():
    """Why the race may test only the margin's boundary: betting on "below m" gains as m
    grows, betting on "above m" loses."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 50)
    ms = np.linspace(0.01, 0.99, 99)
    below = log_capital(x, ms, 0.05, "below")
    above = log_capital(x, ms, 0.05, "above")
    assert (np.diff(below, axis=1) >= -1e-12).all()
    assert (np.diff(above, axis=1) <= 1e-12).all()


def test_confidence_sequence_covers_at_every_look():
    """The running-intersection sequence for a Beta(2, 5) mean (skewed) misses the mean at
    any of its 200 looks in at most alpha of 300 streams (plus Monte-Carlo error)."""
    rng = np.random.default_rng(1)
    mean = 2 / 7
    misses = 0
    for _ in range(300):
        x = rng.beta(2, 5, 200)
        bound = math.log(2 / ALPHA)
        ever_out = ((log_capital(x, mean, ALPHA, "below") >= bound).any()
                    or (log_capital(x, mean, ALPHA, "above") >= bound).any())
        misses += bool(ever_out)
    assert misses / 300 <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / 300)
    lo, hi = confidence_sequence(rng.beta(2, 5, 400), ALPHA)
    assert lo < mean < hi and hi - lo < 0.2


def test_rejected_says_when_and_stays_rejected():
    x = np.full(40, 0.2)  # mean 0.2: "the mean is at least 0.5" is soon rejected
    at = rejected(x, 0.5, ALPHA, "below")
    assert at is not None and 3 <= at <= 40
    assert rejected(x, 0.1, ALPHA, "below") is None  # the mean 0.2 is above 0.1
    assert rejected([], 0.5, ALPHA, "below") is None


# -- error control, by simulation ----------------------------------------------------------

SETTINGS = [  # (true means, input effect sd): tied cells, near ties, 2 to 8 cells
    ([0.5, 0.5], 0.15),
    ([0.5, 0.5, 0.5, 0.5], 0.0),
    ([0.5, 0.49, 0.47, 0.45], 0.2),
    ([0.6] + [0.58] * 7, 0.1),
]


@pytest.mark.parametrize("mus, tau", SETTINGS)
def test_a_truly_best_cell_is_dropped_at_most_alpha_of_the_time(mus, tau):
    """250 races per setting (1,000 in all), a look after every round of 4 inputs on a pool
    of 60: the race drops a truly best cell in at most alpha of them (Monte-Carlo margin 3
    SE); the naive rule (paired t-test against the leader after every round) does far
    worse on tied cells."""
    rng = np.random.default_rng(hash((tuple(mus), tau)) % 2**32)
    reps = 250
    race = sum(run_race(mus, tau, 0.1, 60, 4, ALPHA, rng).dropped_best for _ in range(reps))
    assert race / reps <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / reps), race
    if len(set(mus)) == 1:  # all tied: every drop is an error, and peeking makes many
        naive = sum(run_naive(mus, tau, 0.1, 60, 4, ALPHA, rng).dropped_best
                    for _ in range(100))
        assert naive / 100 > 0.25, naive


def test_a_clear_winner_is_found_with_3x_fewer_generations():
    """One cell better by 0.15 among four: the race names it on every one of 50 pools of
    200 inputs, with at least 3x fewer generations than every cell on every input."""
    rng = np.random.default_rng(7)
    mus = [0.6, 0.45, 0.45, 0.45]
    runs = [run_race(mus, 0.15, 0.1, 200, 4, ALPHA, rng) for _ in range(50)]
    assert all(r.winner == "c0" for r in runs)
    used = np.mean([r.generations for r in runs])
    assert 4 * 200 / used >= 3.0, used


def test_tied_cells_stop_on_the_pool_without_a_winner():
    rng = np.random.default_rng(3)
    runs = [run_race([0.5] * 3, 0.1, 0.1, 48, 4, ALPHA, rng) for _ in range(50)]
    assert sum(r.winner is not None for r in runs) <= 50 * ALPHA + 3
    assert all(r.inputs == 48 for r in runs if r.winner is None)


def test_a_tie_within_the_margin_is_decided():
    """Two cells 0.005 apart with margin 0.1: the race stops early, declaring them tied,
    and drops neither."""
    rng = np.random.default_rng(5)
    r = run_race([0.5, 0.495], 0.1, 0.05, 400, 4, ALPHA, rng, margin=0.1)
    assert r.inputs < 400 and not r.dropped_best and r.winner is None


def test_pareto_race_drops_only_a_cell_beaten_on_every_objective():
    """Three cells on two objectives: c1 is worse than c0 on both, c2 is worse on the
    first but better on the second. Only c1 is dropped."""
    rng = np.random.default_rng(11)
    objs = [Objective("a", True, (0.0, 1.0)), Objective("b", True, (0.0, 1.0))]
    state = RaceState(["c0", "c1", "c2"], objs, alpha=ALPHA)
    means = {"c0": (0.7, 0.5), "c1": (0.4, 0.3), "c2": (0.4, 0.8)}
    for r in range(30):
        inputs = [f"{r}-{j}" for j in range(4)]
        state.add_round(inputs, {c: {name: {i: float(np.clip(means[c][k] + rng.normal(0, .05),
                                                             0, 1)) for i in inputs}
                                     for k, name in enumerate(("a", "b"))}
                                 for c in state.survivors})
    assert set(state.dropped) == {"c1"} and state.dropped["c1"].by == "c0"


def test_unbounded_objective_races_on_win_shares():
    """Perplexity-like (lower is better, unbounded): c1 is higher on most inputs and is
    dropped; the reason says the comparison is by the share of inputs won."""
    rng = np.random.default_rng(2)
    state = RaceState(["c0", "c1"], [Objective("ppl", False, None, margin=1.0)], alpha=ALPHA)
    for r in range(20):
        inputs = [f"{r}-{j}" for j in range(4)]
        base = rng.lognormal(3, 1, 4)
        state.add_round(inputs, {"c0": {"ppl": dict(zip(inputs, base, strict=True))},
                                 "c1": {"ppl": dict(zip(inputs, base * 1.5 + 5,
                                                        strict=True))}})
        if state.decided():
            break
    assert "c1" in state.dropped and "most inputs" in state.dropped["c1"].reason


def test_goal_baseline_gives_every_cell_a_verdict():
    rng = np.random.default_rng(4)
    state = RaceState(["base", "up", "down", "same"],
                      [Objective("m", True, (0.0, 1.0), margin=0.05)], goal="baseline",
                      alpha=ALPHA)
    means = {"base": 0.5, "up": 0.7, "down": 0.3, "same": 0.5}
    for r in range(100):
        inputs = [f"{r}-{j}" for j in range(4)]
        u = rng.normal(0, 0.1, 4)
        state.add_round(inputs, {c: {"m": {i: float(np.clip(means[c] + u[j]
                                                            + rng.normal(0, 0.03), 0, 1))
                                           for j, i in enumerate(inputs)}}
                                 for c in state.survivors})
        if state.decided():
            break
    got = {c: v.decision for c, v in state.verdicts.items()}
    assert got == {"up": "better", "down": "worse", "same": "tied"}, got
