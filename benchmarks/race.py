"""The simulation study behind adaptive sweeps (docs/statistics.md, "Adaptive sweeps"):
how often a race drops a truly best cell (target: at most alpha), the same for the naive
rule "t-test against the leader after every round, drop at p < alpha", and the generations
a race uses against the fixed design. Per-input values ``clip(mu + u_input + e, 0, 1)``
(``tests/stats/race_sim.py``); a look after every round of 4 inputs.

    python benchmarks/race.py [--reps 1000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._machine import machine_line  # noqa: E402
from tests.stats.race_sim import run_naive, run_race  # noqa: E402

ALPHA = 0.05
ERRORS = [  # (label, means, input-effect sd)
    ("2 cells tied", [0.5, 0.5], 0.15),
    ("4 cells tied, no input effect", [0.5] * 4, 0.0),
    ("4 cells tied, input sd 0.3", [0.5] * 4, 0.3),
    ("4 near ties (0.5/0.49/0.47/0.45)", [0.5, 0.49, 0.47, 0.45], 0.2),
    ("8 cells, best by 0.02", [0.6] + [0.58] * 7, 0.1),
]
SAVINGS = [  # (label, means, pool)
    ("clear winner of 4 (+0.15)", [0.6, 0.45, 0.45, 0.45], 200),
    ("clear winner of 8 (+0.15)", [0.6] + [0.45] * 7, 200),
    ("winner of 4 by 0.05", [0.55, 0.5, 0.5, 0.5], 400),
    ("4 tied", [0.5] * 4, 200),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=1000)
    args = ap.parse_args()
    print(machine_line(f"numpy {np.__version__}"))
    rng = np.random.default_rng(2026)
    print(f"\nP(a truly best cell is dropped), alpha {ALPHA}, pool 60 inputs, rounds of 4, "
          f"noise sd 0.1, {args.reps} races each:")
    print(f"{'setting':36s} {'race':>8s} {'naive':>8s}")
    for label, mus, tau in ERRORS:
        race = np.mean([run_race(mus, tau, 0.1, 60, 4, ALPHA, rng).dropped_best
                        for _ in range(args.reps)])
        naive = np.mean([run_naive(mus, tau, 0.1, 60, 4, ALPHA, rng).dropped_best
                         for _ in range(args.reps)])
        print(f"{label:36s} {race:8.3f} {naive:8.3f}")
    reps = max(args.reps // 10, 20)
    print(f"\nGenerations used (one per cell and input) against every cell on every input, "
          f"input sd 0.15, noise sd 0.1, {reps} races each:")
    print(f"{'setting':30s} {'fixed':>7s} {'race':>8s} {'ratio':>6s} {'found best':>10s}")
    for label, mus, pool in SAVINGS:
        runs = [run_race(mus, 0.15, 0.1, pool, 4, ALPHA, rng) for _ in range(reps)]
        used = float(np.mean([r.generations for r in runs]))
        found = np.mean([r.winner == "c0" for r in runs])
        fixed = len(mus) * pool
        print(f"{label:30s} {fixed:7d} {used:8.1f} {fixed / used:5.2f}x {found:10.2f}")


if __name__ == "__main__":
    main()
