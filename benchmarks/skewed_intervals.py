"""Coverage of the harness's cell intervals on skewed bounded metrics (docs/statistics.md,
"Skewed metrics"): Self-BLEU and distinct-2 per input over synthetic inputs, and a
right-skewed per-sample metric, against Student t over the raw per-input values.

    python benchmarks/skewed_intervals.py --reps 2000

Each entry: ``reps`` cells of k inputs drawn from a pool of 3000 inputs (set metrics) or
200,000 (per-sample), whose mean is the truth; the harness interval is
``harness.stats.intervals.cell_interval`` with the metric's bounds, as ``summarize`` calls it.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats as st

from harness.metrics import METRICS, score_set
from harness.stats.intervals import cell_interval

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.metrics.synthetic
from tests.metrics.synthetic import synthetic_inputs  # noqa: E402

M = 4  # samples per input


def set_pool(metric: str, log_sd: float) -> np.ndarray:
    inputs = synthetic_inputs(3000, 10, log_sd, n_sets=1, samples=M)
    return np.array([score_set([metric], sets[0])[metric] for sets in inputs])


def per_sample_pool(sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Per-input means of exp(sigma × (input effect + sample noise)), ICC 0.5."""
    z = rng.normal(0, math.sqrt(0.5), (200_000, 1)) + rng.normal(0, math.sqrt(0.5),
                                                                  (200_000, M))
    return np.exp(sigma * z).mean(1)


def t_coverage(x: np.ndarray, truth: float) -> float:
    k = x.shape[1]
    half = st.t.ppf(0.975, k - 1) * x.std(1, ddof=1) / math.sqrt(k)
    m = x.mean(1)
    return float(np.mean((m - half <= truth) & (truth <= m + half)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=2000)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    started = time.time()
    pools = [(f"self_bleu per input (set metric), vocabulary log-sd {s}",
              set_pool("self_bleu", s), METRICS["self_bleu"].bounds) for s in (0.7, 1.0)]
    pools.append(("distinct_2 per input (set metric), vocabulary log-sd 0.7",
                  set_pool("distinct_2", 0.7), METRICS["distinct_2"].bounds))
    pools += [(f"per-sample metric exp({s} × normal), ICC 0.5, bounded below by 0",
               per_sample_pool(s, rng), (0.0, None)) for s in (0.5, 1.0)]
    ks = (3, 4, 8, 16)
    print(f"{args.reps} cells per entry (Monte-Carlo SE at 0.95: "
          f"{math.sqrt(0.05 * 0.95 / args.reps):.3f})\n")
    print("| metric | skewness | method | " + " | ".join(f"k={k}" for k in ks) + " |")
    print("|---|---:|---|" + "---:|" * len(ks))
    for title, values, bounds in pools:
        truth = float(values.mean())
        t_row, h_row = [], []
        for k in ks:
            x = values[rng.integers(0, len(values), (args.reps, k))]
            t_row.append(t_coverage(x, truth))
            ivs = [cell_interval(xi, n_samples=k * M, seed=r, bounds=bounds)
                   for r, xi in enumerate(x)]
            h_row.append(float(np.mean([iv.lo <= truth <= iv.hi for iv in ivs])))
        skew = f"{st.skew(values):.2f}"
        print(f"| {title} | {skew} | Student t over inputs | "
              + " | ".join(f"{c:.3f}" for c in t_row) + " |")
        print("| | | harness cell_interval | " + " | ".join(f"{c:.3f}" for c in h_row)
              + " |")
    print(f"\n({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
