"""The simulation study behind docs/statistics.md: interval coverage, false-positive rates
and power of the old (per-sample) and new (per-input) statistics, as markdown tables.

    python benchmarks/simulation.py [--reps 1000] [--compare-reps 300] [--resamples 1000]
                                    [--pool 3000] [--seed 0]

Data: a cell has k inputs × 4 samples. Per-sample values are ``z = input effect +
sample noise`` with both normal and variance 0.5 (total variance 1, intra-class
correlation 0.5), or ``exp(σ z)`` (lognormal, σ = 0.5 and 1.0), or pass/fail (1 with
probability 0.9, independent: a metric like ``constraint_pass``). The set metric is the
harness's ``distinct_2`` over the 4 synthetic texts of one input: input i has its own
vocabulary of V_i words (V_i lognormal around 150, log-sd 0.7 "moderate" or 1.0 "heavy")
and each text is 20–60 words drawn Zipf-like (p ∝ rank^-1.1) from it. A pool of inputs is
scored once; a simulated cell draws k of them (inputs are i.i.d., so this is a draw from
the pool's distribution, whose mean — the truth — is the pool mean).

Intervals (nominal 95%):
  (i)   naive: percentile bootstrap over all k × 4 samples (the old harness; a set metric
        had no interval then, so n/a),
  (ii)  two-stage: percentile bootstrap resampling inputs, then samples within each input
        (for the set metric, distinct_2 is recomputed on the resampled texts),
  (iii) cluster: percentile bootstrap over the per-input values,
  (iv)  t over the per-input values (k − 1 df),
  (v)   harness: ``harness.stats.intervals.cell_interval`` with the metric's bounds, as
        ``harness.summarize.cells.summarize`` calls it (bootstrap-t over inputs from
        ``BOOT_T_MIN_INPUTS`` inputs on, (iv) below that; clipped to the bounds).

Comparisons: two runs of the same suite (same inputs, so the input effects are shared;
fresh sample noise), 16 cells × 6 metrics of 8 inputs × 4 samples. Old: the unpaired
percentile bootstrap CI of the difference of the cell means over samples, one test per
row, no correction (``harness.summarize.cells.compare`` before per-input statistics). New:
``harness.stats.comparisons.compare_runs`` (paired t over inputs, Benjamini–Hochberg) and the
gate ``harness.stats.gate.run_checks`` (one-sided paired t beyond the tolerance, Holm).
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

_sys.path.insert(0, str(_Path(__file__).parent))
_sys.path.insert(1, str(_Path(__file__).resolve().parent.parent))  # for tests.metrics.synthetic
import argparse
import contextlib
import functools
import gc
import itertools
import math
import time
from collections.abc import Callable, Iterator

import numpy as np
import scipy
from _machine import machine_line  # noqa: E402
from scipy import stats as st

import harness.stats.gate
import harness.stats.intervals
from harness.metrics import METRICS, score_set
from harness.stats.comparisons import compare_runs
from harness.stats.gate import run_checks
from harness.stats.intervals import BOOT_T_MIN_INPUTS, cell_interval, paired_test
from harness.summarize.cells import summary_from_inputs
from tests.metrics.synthetic import synthetic_inputs

ALPHA = 0.05
M = 4  # samples per input
ICC = 0.5
K_VALUES = (2, 3, 4, 8, 16)
CHUNK_DRAWS = 2_000_000  # bootstrap draws per vectorized chunk (bounds memory)

# ------------------------------------------------------------------------------- data


def nested(rng: np.random.Generator, lead: tuple[int, ...], k: int, m: int = M,
           icc: float = ICC, runs: int = 1) -> np.ndarray:
    """Standard-normal per-sample values with input effects, shape ``(runs, *lead, k, m)``:
    ``N(0, icc)`` per input (shared by the ``runs``) plus ``N(0, 1 - icc)`` per sample."""
    effect = rng.normal(0.0, math.sqrt(icc), (1, *lead, k, 1))
    return effect + rng.normal(0.0, math.sqrt(1.0 - icc), (runs, *lead, k, m))


Bounds = tuple[float | None, float | None]
DISTS: dict[str, tuple[Callable[[np.random.Generator, int, int], np.ndarray], float, Bounds]] = {
    # name: (draw(rng, reps, k) -> per-sample values (reps, k, M), true mean, bounds)
    "normal, ICC 0.5": (lambda rng, r, k: nested(rng, (r,), k)[0], 0.0, (None, None)),
    "lognormal σ=0.5 (exp of 0.5 × the normal)":
        (lambda rng, r, k: np.exp(0.5 * nested(rng, (r,), k)[0]), math.exp(0.5**2 / 2),
         (0.0, None)),
    "lognormal σ=1.0 (exp of the normal)":
        (lambda rng, r, k: np.exp(nested(rng, (r,), k)[0]), math.exp(1.0 / 2), (0.0, None)),
    "pass/fail per sample (like constraint_pass), P(pass) = 0.9, no input effect":
        (lambda rng, r, k: (rng.random((r, k, M)) < 0.9).astype(float), 0.9,
         METRICS["constraint_pass"].bounds),
}

# All 35 multisets of 4 sample indices, and their codes sum(5**j) (= Σ count_j · 5^j).
MULTISETS = list(itertools.combinations_with_replacement(range(M), M))
CODES = [sum(5**j for j in ms) for ms in MULTISETS]
ALL_ONCE = sum(5**j for j in range(M))


def distinct_2(texts: list[str]) -> float:
    return score_set(["distinct_2"], texts)["distinct_2"]


class SetPool:
    """Per-input distinct_2 of a pool of synthetic inputs: ``values`` (the 4 texts as
    generated), ``replicate`` (4 fresh texts of the same input: for the ICC), and
    ``table[i, code]``: distinct_2 of the multiset of input i's texts with that code (what a
    resample of the samples within the input gives)."""

    def __init__(self, n: int, seed: int, log_sd: float):
        self.log_sd = log_sd
        inputs = synthetic_inputs(n, seed, log_sd, n_sets=2, samples=M)
        self.table = np.full((n, 5**M), np.nan)
        for i, (texts, _) in enumerate(inputs):
            for ms, code in zip(MULTISETS, CODES, strict=True):
                self.table[i, code] = distinct_2([texts[j] for j in ms])
        self.values = self.table[:, ALL_ONCE].copy()
        self.replicate = np.array([distinct_2(rep) for _, rep in inputs])
        self.truth = float(self.values.mean())
        # share of the variance of an input's value due to the input: Cov(two sets of
        # the same input) / Var
        self.icc = float(np.cov(self.values, self.replicate)[0, 1] / self.values.var(ddof=1))

# -------------------------------------------------------------------------- intervals


def _chunks(reps: int, per_rep: int) -> Iterator[slice]:
    step = max(1, CHUNK_DRAWS // max(1, per_rep))
    for s in range(0, reps, step):
        yield slice(s, min(reps, s + step))


def _pct(boot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.quantile(boot, [ALPHA / 2, 1 - ALPHA / 2], axis=1)
    return lo, hi


def naive_boot(x: np.ndarray, B: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """(i) percentile bootstrap of the mean over all samples; x: (R, k, m)."""
    R = len(x)
    flat = x.reshape(R, -1)
    n = flat.shape[1]
    lo, hi = np.empty(R), np.empty(R)
    for sl in _chunks(R, B * n):
        f = flat[sl]
        idx = rng.integers(0, n, (len(f), B, n))
        boot = f[np.arange(len(f))[:, None, None], idx].mean(-1)
        lo[sl], hi[sl] = _pct(boot)
    return lo, hi


def two_stage_boot(x: np.ndarray, B: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """(ii) resample inputs, then samples within each; x: (R, k, m)."""
    R, k, m = x.shape
    lo, hi = np.empty(R), np.empty(R)
    for sl in _chunks(R, B * k * m):
        f = x[sl]
        c = len(f)
        ii = rng.integers(0, k, (c, B, k))
        ss = rng.integers(0, m, (c, B, k, m))
        boot = f[np.arange(c)[:, None, None, None], ii[..., None], ss].mean((-1, -2))
        lo[sl], hi[sl] = _pct(boot)
    return lo, hi


def two_stage_set(ids: np.ndarray, table: np.ndarray, B: int, rng: np.random.Generator
                  ) -> tuple[np.ndarray, ...]:
    """(ii) for the set metric: resample inputs, then the texts within each input, and
    take distinct_2 of the resampled texts (looked up in ``table``); ids: (R, k)."""
    R, k = ids.shape
    lo, hi = np.empty(R), np.empty(R)
    for sl in _chunks(R, B * k * M):
        f = ids[sl]
        c = len(f)
        pid = f[np.arange(c)[:, None, None], rng.integers(0, k, (c, B, k))]
        code = (5 ** rng.integers(0, M, (c, B, k, M))).sum(-1)
        lo[sl], hi[sl] = _pct(table[pid, code].mean(-1))
    return lo, hi


def cluster_boot(y: np.ndarray, B: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """(iii) percentile bootstrap over the per-input values; y: (R, k)."""
    R, k = y.shape
    lo, hi = np.empty(R), np.empty(R)
    for sl in _chunks(R, B * k):
        f = y[sl]
        boot = f[np.arange(len(f))[:, None, None], rng.integers(0, k, (len(f), B, k))].mean(-1)
        lo[sl], hi[sl] = _pct(boot)
    return lo, hi


def t_over_inputs(y: np.ndarray) -> tuple[np.ndarray, ...]:
    """(iv) Student t over the per-input values; y: (R, k)."""
    k = y.shape[1]
    half = st.t.ppf(1 - ALPHA / 2, k - 1) * y.std(axis=1, ddof=1) / math.sqrt(k)
    return y.mean(1) - half, y.mean(1) + half


def harness_interval(y: np.ndarray, x: np.ndarray | None, bounds: Bounds
                     ) -> tuple[np.ndarray, ...]:
    """(v) ``harness.stats.intervals.cell_interval``, one call per simulated cell."""
    R, k = y.shape
    lo, hi = np.empty(R), np.empty(R)
    for r in range(R):
        iv = cell_interval(y[r], x[r] if x is not None else None, seed=r, n_samples=k * M,
                           bounds=bounds)
        lo[r], hi[r] = iv.lo, iv.hi
    return lo, hi


METHODS = ("(i) naive bootstrap over samples (old)", "(ii) two-stage bootstrap",
           "(iii) cluster percentile bootstrap", "(iv) t over input means",
           f"(v) harness cell_interval (bootstrap-t from k={BOOT_T_MIN_INPUTS}, else (iv))")


def coverage_table(title: str, rows: dict[str, list[str]]) -> None:
    print(f"\n**{title}** — coverage of the true mean at nominal 95%\n")
    print("| method | " + " | ".join(f"k={k}" for k in K_VALUES) + " |")
    print("|---|" + "---:|" * len(K_VALUES))
    for name, cells in rows.items():
        print(f"| {name} | " + " | ".join(cells) + " |")


def _cov(lo: np.ndarray, hi: np.ndarray, truth: float) -> str:
    return f"{np.mean((lo <= truth) & (truth <= hi)):.3f}"


def coverage_study(reps: int, B: int, pools: list[SetPool], seed: int) -> None:
    print("\n## Interval coverage, k inputs × 4 samples\n")
    print(f"{reps} simulated cells per entry (Monte-Carlo SE at 0.95: "
          f"{math.sqrt(0.95 * 0.05 / reps):.3f}); percentile bootstraps use {B} resamples, "
          f"the harness its default 2000. For k < {BOOT_T_MIN_INPUTS} the harness interval "
          "*is* (iv), clipped to the metric's bounds.")
    for d, (name, (draw, truth, bounds)) in enumerate(DISTS.items()):
        rows: dict[str, list[str]] = {m: [] for m in METHODS}
        for k in K_VALUES:
            rng = np.random.default_rng([seed, 1, d, k])
            x = draw(rng, reps, k)
            y = x.mean(-1)
            for m, (lo, hi) in zip(METHODS, (naive_boot(x, B, rng), two_stage_boot(x, B, rng),
                                             cluster_boot(y, B, rng), t_over_inputs(y),
                                             harness_interval(y, x, bounds)),
                                  strict=True):
                rows[m].append(_cov(lo, hi, truth))
        coverage_table(name, rows)
    for p, pool in enumerate(pools):
        rows = {m: [] for m in METHODS}
        for k in K_VALUES:
            rng = np.random.default_rng([seed, 2, p, k])
            ids = rng.integers(0, len(pool.values), (reps, k))
            y = pool.values[ids]
            rows[METHODS[0]].append("n/a")
            for m, (lo, hi) in zip(METHODS[1:], (two_stage_set(ids, pool.table, B, rng),
                                                 cluster_boot(y, B, rng), t_over_inputs(y),
                                                 harness_interval(
                                                     y, None, METRICS["distinct_2"].bounds)),
                                  strict=True):
                rows[m].append(_cov(lo, hi, pool.truth))
        vals = pool.values
        coverage_table(
            f"distinct_2 per input (set metric), vocabulary log-sd {pool.log_sd}: "
            f"truth {pool.truth:.4f}, SD over inputs {vals.std(ddof=1):.4f}, skewness "
            f"{st.skew(vals):.2f}, input share of variance (ICC-like) {pool.icc:.2f}, "
            f"pool of {len(vals)} inputs", rows)

# ------------------------------------------------------------------------- comparisons

# name: (location, scale, transform) -> per-sample value location + scale * transform(z)
METRIC_MODELS: dict[str, tuple[float, float, Callable[[np.ndarray], np.ndarray]]] = {
    "distinct_1": (0.55, 0.08, lambda z: z),
    "distinct_2": (0.80, 0.06, lambda z: z),
    "self_bleu": (0.25, 0.08, lambda z: z),
    "relevance": (0.50, 0.10, lambda z: z),
    "embedding_diversity": (0.0, 0.45, lambda z: np.exp(0.5 * z)),
    "perplexity": (0.0, 10.0, lambda z: np.exp(z)),
}
N_CELLS = 16


def cell_ids() -> list[str]:
    return [f"p{c // 4}|temperature=0.{c % 4 + 2}" for c in range(N_CELLS)]


def make_summary(run_id: str, per_input: np.ndarray, names: list[str]) -> dict:
    """A summary from per-input values of shape (cells, metrics, inputs), without
    intervals (comparisons and the gate read only the per-input values)."""
    return summary_from_inputs(
        {cid: {n: {f"input{i}": float(x) for i, x in enumerate(v)}
               for n, v in zip(names, vals, strict=True)}
         for cid, vals in zip(cell_ids(), per_input, strict=True)},
        run_id=run_id, samples_per_input=M, intervals=False)


def paired_runs(rng: np.random.Generator, k: int, shift: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample values of runs A and B, shape (cells, metrics, k, M): same inputs
    (shared input effects), fresh samples; ``shift`` (cells, metrics) is added to B."""
    names = list(METRIC_MODELS)
    z = nested(rng, (N_CELLS, len(names)), k, runs=2)
    out = np.empty_like(z)
    for j, n in enumerate(names):
        loc, scale, f = METRIC_MODELS[n]
        out[:, :, j] = loc + scale * f(z[:, :, j])
    if shift is not None:
        out[1] += shift[:, :, None, None]
    return out[0], out[1]


def old_unpaired(xa: np.ndarray, xb: np.ndarray, B: int, rng: np.random.Generator
                 ) -> np.ndarray:
    """The old per-row test: percentile bootstrap CI (B resamples) of mean(b) - mean(a)
    over the samples, A and B resampled independently; significant when it excludes 0.
    xa, xb: (rows, n samples). Returns a bool per row."""
    rows, n = xa.shape
    ar = np.arange(rows)[:, None, None]
    ma = xa[ar, rng.integers(0, n, (rows, B, n))].mean(-1)
    mb = xb[ar, rng.integers(0, n, (rows, B, n))].mean(-1)
    lo, hi = np.quantile(mb - ma, [ALPHA / 2, 1 - ALPHA / 2], axis=1)
    diff = xb.mean(1) - xa.mean(1)
    lo, hi = np.minimum(lo, diff), np.maximum(hi, diff)  # the old clamp
    return (lo > 0) | (hi < 0)


@contextlib.contextmanager
def fast_gate() -> Iterator[None]:
    """Make many gate evaluations cheap without changing pass/fail, p-values or ``mdc``:
    ``min_detectable`` becomes ``sd`` × the same statsmodels effect size, cached by (n,
    alpha, power, sidedness); ``inputs_needed`` (report-only ``more_inputs``) returns
    None; ``gc.collect`` is a no-op (statsmodels' Holm calls it on every adjustment)."""
    original = harness.stats.intervals.min_detectable

    @functools.cache
    def unit(n: int, alpha: float, power: float, one_sided: bool) -> float | None:
        return original(1.0, n, alpha, power, one_sided)

    def fast(sd, n, alpha=ALPHA, power=0.8, one_sided=True):
        if n < harness.stats.intervals.MIN_PAIRS or sd is None:
            return None
        return 0.0 if sd == 0 else unit(n, alpha, power, one_sided) * sd

    saved = (harness.stats.gate.min_detectable, harness.stats.gate.inputs_needed, gc.collect)
    harness.stats.intervals.min_detectable = fast
    harness.stats.gate.min_detectable = fast
    harness.stats.gate.inputs_needed = lambda *args, **kwargs: None
    gc.collect = lambda generation=2: 0
    try:
        yield
    finally:
        harness.stats.intervals.min_detectable = original
        harness.stats.gate.min_detectable, harness.stats.gate.inputs_needed, gc.collect = saved


def fpr_study(reps: int, B: int, seed: int, k: int = 8) -> None:
    names = list(METRIC_MODELS)
    n_rows = N_CELLS * len(names)
    print(f"\n## False positives: two runs of an unchanged suite, {N_CELLS} cells × "
          f"{len(names)} metrics = {n_rows} rows, {k} inputs × {M} samples\n")
    print(f"{reps} simulated run pairs (SE of a rate near 0.05: "
          f"{math.sqrt(0.05 * 0.95 / reps):.3f}). Metrics: 4 normal, 2 lognormal (σ 0.5, 1); "
          "rows independent of each other.\n")
    rng = np.random.default_rng([seed, 3])
    counts = {key: [0, 0] for key in ("old", "paired", "compare", "gate0", "gate10")}
    for _ in range(reps):
        xa, xb = paired_runs(rng, k)
        ya, yb = xa.mean(-1), xb.mean(-1)
        old = old_unpaired(xa.reshape(n_rows, -1), xb.reshape(n_rows, -1), B, rng)
        sa, sb = make_summary("a", ya, names), make_summary("b", yb, names)
        res = compare_runs(sa, sb)
        raw = np.array([r["p"] < ALPHA for r in res["rows"]])
        sig = np.array([r["significant"] for r in res["rows"]])
        with fast_gate():
            g0 = [not row["passed"] for row in run_checks(sb, [], sa, names, tolerance=0.0)]
            g10 = [not row["passed"] for row in run_checks(sb, [], sa, names, tolerance=0.1)]
        for key, flags in (("old", old), ("paired", raw), ("compare", sig), ("gate0", g0),
                           ("gate10", g10)):
            counts[key][0] += int(np.sum(flags))
            counts[key][1] += bool(np.any(flags))
    labels = {
        "old": "old: unpaired percentile bootstrap over samples, per row, no correction",
        "paired": "paired t over inputs, no correction",
        "compare": "harness compare_runs: paired t, Benjamini–Hochberg",
        "gate0": "harness gate run_checks: one-sided, Holm, tolerance 0",
        "gate10": "harness gate run_checks: one-sided, Holm, tolerance 10%",
    }
    print("| test | rows significant / failing (per row) | P(any row) |")
    print("|---|---:|---:|")
    for key, (n_sig, n_any) in counts.items():
        print(f"| {labels[key]} | {n_sig / (reps * n_rows):.4f} | {n_any / reps:.3f} |")


def power_study(reps: int, B: int, seed: int, shift: float = 0.3) -> None:
    print(f"\n## Power: one metric, true shift {shift} SD (SD of one sample), ICC {ICC}, "
          "two-sided α = 0.05\n")
    print(f"{reps} simulated comparisons per entry; same inputs in both runs.\n")
    rows = {"old: unpaired percentile bootstrap over samples": [],
            "Welch t over samples (scipy ttest_ind)": [],
            "harness paired_test (paired t over input means)": []}
    ks = (4, 8, 16)
    for k in ks:
        rng = np.random.default_rng([seed, 4, k])
        z = nested(rng, (reps,), k, runs=2)
        xa, xb = z[0], z[1] + shift
        old = old_unpaired(xa.reshape(reps, -1), xb.reshape(reps, -1), B, rng)
        welch = st.ttest_ind(xb.reshape(reps, -1), xa.reshape(reps, -1), axis=1,
                             equal_var=False).pvalue < ALPHA
        ya, yb = xa.mean(-1), xb.mean(-1)
        paired = [paired_test(dict(enumerate(a)), dict(enumerate(b))).p < ALPHA
                  for a, b in zip(ya, yb, strict=True)]
        for key, flags in zip(rows, (old, welch, paired), strict=True):
            rows[key].append(f"{np.mean(flags):.3f}")
    print("| test | " + " | ".join(f"k={k} ({k * M} samples/side)" for k in ks) + " |")
    print("|---|" + "---:|" * len(ks))
    for key, cells in rows.items():
        print(f"| {key} | " + " | ".join(cells) + " |")


def gate_power_study(reps: int, seed: int, k: int = 8) -> None:
    names = list(METRIC_MODELS)
    target_cell, target = 5, names.index("self_bleu")
    loc, scale, _ = METRIC_MODELS["self_bleu"]
    print(f"\n## Gate: a real regression on one row of {N_CELLS} × {len(names)}, "
          f"{k} inputs × {M} samples, tolerance 10%\n")
    print(f"self_bleu of one cell worsens by tolerance × true mean + s × SD; {reps} run "
          "pairs per entry. 'named' = the gate fails on that row and on no other.\n")
    print("| s (SD beyond tolerance) | P(gate fails) | P(fails, naming only that row) |")
    print("|---:|---:|---:|")
    for s in (0.5, 1.0, 1.5, 2.0):
        rng = np.random.default_rng([seed, 5, int(s * 10)])
        shift = np.zeros((N_CELLS, len(names)))
        shift[target_cell, target] = 0.1 * loc + s * scale
        fails = named = 0
        for _ in range(reps):
            xa, xb = paired_runs(rng, k, shift)
            sa = make_summary("a", xa.mean(-1), names)
            sb = make_summary("b", xb.mean(-1), names)
            with fast_gate():
                rows = run_checks(sb, [], sa, names, tolerance=0.1)
            failed = {(r["cell"], r["check"].split()[0]) for r in rows if not r["passed"]}
            fails += bool(failed)
            named += failed == {(cell_ids()[target_cell], "self_bleu")}
        print(f"| {s} | {fails / reps:.3f} | {named / reps:.3f} |")

# ------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=1000,
                        help="simulated cells per coverage entry, and comparisons per power "
                             "entry (default 1000)")
    parser.add_argument("--compare-reps", type=int, default=300,
                        help="simulated run pairs for the 16 × 6 false-positive table "
                             "(default 300; the gate-power table uses a third)")
    parser.add_argument("--resamples", type=int, default=1000,
                        help="resamples of the percentile bootstraps (default 1000)")
    parser.add_argument("--pool", type=int, default=3000,
                        help="synthetic inputs scored per distinct_2 pool (default 3000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    print("# Statistics simulation study (benchmarks/simulation.py)\n")
    print(machine_line(f"numpy {np.__version__}", f"scipy {scipy.__version__}"))
    print(f"\nreps {args.reps}, compare-reps {args.compare_reps}, resamples "
          f"{args.resamples}, pool {args.pool}, seed {args.seed}")
    start = time.perf_counter()
    pools = [SetPool(args.pool, args.seed + 10, 0.7), SetPool(args.pool, args.seed + 11, 1.0)]
    t_pool = time.perf_counter() - start
    coverage_study(args.reps, args.resamples, pools, args.seed)
    t_cov = time.perf_counter() - start - t_pool
    fpr_study(args.compare_reps, args.resamples, args.seed)
    power_study(args.reps, args.resamples, args.seed)
    gate_power_study(max(50, args.compare_reps // 3), args.seed)
    total = time.perf_counter() - start
    print(f"\n_time: pools {t_pool:.0f} s, coverage {t_cov:.0f} s, total {total:.0f} s_")


if __name__ == "__main__":
    main()
