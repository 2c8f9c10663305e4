"""Simulation checks of the statistics (harness.stats.intervals, comparisons, the gate).

Every test simulates data with a known truth and measures what the harness code does with
it; nothing re-derives the function under test. All seeds are fixed, so the figures are
deterministic; the comments give the values measured when the tests were written and the
Monte-Carlo standard error (SE) the thresholds allow for. The wider study (other k, other
distributions, the old methods) is ``benchmarks/simulation.py``; docs/statistics.md.

Model of a cell: k inputs × 4 samples; a per-sample value is ``input effect + sample
noise``, both normal with variance 0.5 (total variance 1, intra-class correlation 0.5).
The set metric is the harness's ``distinct_2`` over an input's 4 synthetic texts, whose
vocabulary size depends on the input (see ``text_inputs``). Two runs of one suite share
the inputs (and so the input effects) and draw fresh samples.
"""

from __future__ import annotations

import functools
import gc
import math

import numpy as np
import pytest
from scipy import stats as st

import harness.stats.gate
import harness.stats.intervals
from harness.metrics import METRICS, Resources, SampleContext, score_set
from harness.metrics.scoring import ScoreItem, compute_scores
from harness.stats.comparisons import compare_runs
from harness.stats.gate import GateError, run_checks
from harness.stats.intervals import cell_interval, inputs_needed, min_detectable, paired_test
from harness.summarize.cells import summarize, summary_from_inputs
from tests.metrics.synthetic import synthetic_inputs

ALPHA = 0.05
M = 4  # samples per input
ICC = 0.5
K = 8  # inputs per cell


def nested(rng: np.random.Generator, lead: tuple[int, ...], k: int = K, runs: int = 1
           ) -> np.ndarray:
    """Per-sample values, shape ``(runs, *lead, k, M)``: an ``N(0, ICC)`` effect per input
    (shared by the runs) plus ``N(0, 1 - ICC)`` noise per sample."""
    effect = rng.normal(0.0, math.sqrt(ICC), (1, *lead, k, 1))
    return effect + rng.normal(0.0, math.sqrt(1.0 - ICC), (runs, *lead, k, M))


# ----------------------------------------------------------------- the set-metric pool
# Same generator as benchmarks/simulation.py (keep them in step).


def distinct_2(texts: list[str]) -> float:
    return score_set(["distinct_2"], texts)["distinct_2"]


class Pool:
    """distinct_2 of the first set (``values``) and of a second, independent set
    (``replicate``) of each of ``n`` synthetic inputs."""

    def __init__(self, n: int, seed: int, log_sd: float):
        self.inputs = synthetic_inputs(n, seed, log_sd, n_sets=2, samples=M)
        self.values = np.array([distinct_2(sets[0]) for sets in self.inputs])
        self.replicate = np.array([distinct_2(sets[1]) for sets in self.inputs])
        # Inputs are i.i.d., so k inputs drawn from the pool are k i.i.d. inputs of the
        # pool's distribution, whose mean is exactly the pool mean: the truth.
        self.truth = float(self.values.mean())
        # Share of an input's variance due to the input (the set metric's ICC): the
        # covariance of two independent sets of the same input over the variance.
        self.icc = float(np.cov(self.values, self.replicate)[0, 1]
                         / self.values.var(ddof=1))


@pytest.fixture(scope="module")
def pool() -> Pool:
    # Vocabulary log-sd 0.7: measured mean 0.808, SD over inputs 0.072, skewness -0.94 (a
    # long tail of small-vocabulary, repetitive inputs), ICC-like share 0.64.
    return Pool(3000, seed=10, log_sd=0.7)


# ------------------------------------------------------------ summaries and the gate

NAMES = ["distinct_1", "distinct_2", "self_bleu", "relevance", "embedding_diversity",
         "perplexity"]  # registered names with a direction (the gate judges them)
N_CELLS = 16
CELLS = [f"p{c // 4}|temperature=0.{c % 4 + 2}" for c in range(N_CELLS)]


def make_summary(run_id: str, per_input: np.ndarray, names: list[str] = NAMES,
                 cells: list[str] = CELLS) -> dict:
    """A summary from per-input values of shape (cells, metrics, inputs), without
    intervals (comparisons and the gate read only the per-input values)."""
    return summary_from_inputs(
        {cid: {n: {f"input{i}": float(x) for i, x in enumerate(v)}
               for n, v in zip(names, vals, strict=True)}
         for cid, vals in zip(cells, per_input, strict=True)},
        run_id=run_id, samples_per_input=M, intervals=False)


def two_runs(rng: np.random.Generator, pool: Pool, shift: np.ndarray | None = None
             ) -> tuple[dict, dict]:
    """Summaries of a run A and a rerun B of the same 16-cell suite (same inputs, fresh
    samples), 6 metrics of 8 inputs × 4 samples: distinct_2 from the text pool (A: an
    input's first set, B: its second), four normal metrics and two lognormal ones
    (σ 0.5 and 1, right-skewed). ``shift`` (cells, metrics) is added to B's samples."""
    z = nested(rng, (N_CELLS, len(NAMES)), runs=2)
    models = {"distinct_1": lambda z: 0.55 + 0.08 * z, "self_bleu": lambda z: 0.25 + 0.08 * z,
              "relevance": lambda z: 0.5 + 0.1 * z,
              "embedding_diversity": lambda z: 0.45 * np.exp(0.5 * z),
              "perplexity": lambda z: 10.0 * np.exp(z)}
    per_input = np.empty((2, N_CELLS, len(NAMES), K))
    for j, name in enumerate(NAMES):
        if name == "distinct_2":
            ids = rng.integers(0, len(pool.values), (N_CELLS, K))
            per_input[0, :, j], per_input[1, :, j] = pool.values[ids], pool.replicate[ids]
        else:
            x = models[name](z[:, :, j])
            if shift is not None:
                x[1] += shift[:, j, None, None]
            per_input[:, :, j] = x.mean(-1)
    return make_summary("a", per_input[0]), make_summary("b", per_input[1])


@pytest.fixture
def fast_gate(monkeypatch):
    """Make many gate evaluations cheap; pass/fail, p-values and the ``mdc`` column are
    unchanged (``test_fast_gate_fixture_changes_only_more_inputs``):

    - ``min_detectable`` (a statsmodels root-finding per call) becomes ``sd`` × the same
      effect size, cached by (n, alpha, power, sidedness): exact, as it is linear in sd;
    - ``inputs_needed`` (a bisection of ~20 such root-findings, called for every row worse
      than allowed but within noise: half the rows of an unchanged rerun at tolerance 0)
      returns None: it only fills the report's ``more_inputs`` and reason text;
    - ``gc.collect`` is a no-op: statsmodels' Holm calls it on every adjustment (~50 ms
      with scipy and statsmodels loaded).
    """
    original = harness.stats.intervals.min_detectable

    @functools.cache
    def unit(n, alpha, power, one_sided):
        return original(1.0, n, alpha, power, one_sided)

    def fast(sd, n, alpha=ALPHA, power=0.8, one_sided=True):
        if n < harness.stats.intervals.MIN_PAIRS or sd is None:
            return None
        return 0.0 if sd == 0 else unit(n, alpha, power, one_sided) * sd

    monkeypatch.setattr(harness.stats.intervals, "min_detectable", fast)
    monkeypatch.setattr(harness.stats.gate, "min_detectable", fast)
    monkeypatch.setattr(harness.stats.gate, "inputs_needed", lambda *args, **kwargs: None)
    monkeypatch.setattr(gc, "collect", lambda generation=2: 0)


def test_fast_gate_fixture_changes_only_more_inputs(pool, request):
    rng = np.random.default_rng(99)
    shift = np.zeros((N_CELLS, len(NAMES)))
    shift[3, NAMES.index("self_bleu")] = 0.05  # worse than allowed, within noise
    shift[4, NAMES.index("self_bleu")] = 0.3  # clearly worse
    a, b = two_runs(rng, pool, shift)
    slow = run_checks(b, [], a, NAMES, tolerance=0.1)
    request.getfixturevalue("fast_gate")
    fast = run_checks(b, [], a, NAMES, tolerance=0.1)
    assert any(r["more_inputs"] is not None for r in slow)  # inputs_needed was exercised
    assert any(not r["passed"] for r in slow)
    skip = ("more_inputs", "reason")
    assert [{k: v for k, v in r.items() if k not in skip} for r in fast] == [
        {k: v for k, v in r.items() if k not in skip} for r in slow]

# --------------------------------------------------------------------- a. coverage


def coverage(intervals, truth: float) -> float:
    return float(np.mean([iv.lo <= truth <= iv.hi for iv in intervals]))


def test_interval_coverage_per_sample_metric_8_inputs():
    # 2000 cells: measured 0.946 (SE 0.005). Also capped above: a wide interval is no fix.
    rng = np.random.default_rng(1)
    x = nested(rng, (2000,))[0]  # truth 0
    ivs = [cell_interval(xi.mean(1), xi.tolist(), seed=r) for r, xi in enumerate(x)]
    assert all(iv.method == harness.stats.intervals.METHOD_BOOT_T and iv.n_samples == K * M
               for iv in ivs)
    cov = coverage(ivs, 0.0)
    assert 0.93 <= cov <= 0.97, cov

# ------------------------------------------------------------------ b. set metric


def test_set_metric_has_a_substantial_input_effect(pool):
    # measured: ICC-like share 0.64, skewness -0.94
    assert pool.icc > 0.5, pool.icc
    assert st.skew(pool.values) < -0.5  # and a skewed distribution over inputs


def test_interval_coverage_set_metric_distinct_2(pool):
    # 4000 cells of 8 pool inputs: measured 0.961 (SE 0.003) with the logit-scale pivot
    # widened to Johnson's t; 0.951 with the delta-method logit interval before it (the
    # bootstrap-t: 0.942; Student t 0.94).
    rng = np.random.default_rng(2)
    ids = rng.integers(0, len(pool.values), (4000, K))
    bounds = METRICS["distinct_2"].bounds  # as summarize passes them
    ivs = [cell_interval(pool.values[i], n_samples=K * M, seed=r, bounds=bounds)
           for r, i in enumerate(ids)]
    assert all(iv.method == harness.stats.intervals.METHOD_LOGIT for iv in ivs)
    cov = coverage(ivs, pool.truth)
    assert 0.93 <= cov <= 0.975, cov


def _self_bleu_pool(log_sd: float) -> np.ndarray:
    inputs = synthetic_inputs(3000, 10, log_sd, n_sets=1, samples=M)
    return np.array([score_set(["self_bleu"], sets[0])["self_bleu"] for sets in inputs])


@pytest.fixture(scope="module")
def self_bleu_pools() -> dict[float, np.ndarray]:
    """Self-BLEU of one set of 4 texts for each of 3000 synthetic inputs (the pool
    generator of ``pool``), at vocabulary log-sd 0.7 (measured mean 0.060, SD over inputs
    0.034, skewness 2.0: a long right tail of small-vocabulary inputs) and 1.0 (skewness
    3.4)."""
    return {sd: _self_bleu_pool(sd) for sd in (0.7, 1.0)}


def skewed_per_sample(rng: np.random.Generator, n: int) -> np.ndarray:
    """Per-input means of a right-skewed per-sample metric: exp of the nested normal
    (ICC 0.5, 4 samples per input), like a length or a verbatim span."""
    return np.exp(nested(rng, (n,), k=1)[0, :, 0]).mean(-1)


@pytest.mark.parametrize("k", [4, 8, 16])
def test_interval_coverage_skewed_bounded_metrics(self_bleu_pools, k):
    """Student t over raw values under-covers a skewed metric's mean, which sits in the
    long tail that few inputs miss; the intervals on the metric's log/logit scale
    (``scaled_interval``) do not. 3000 cells per metric (SE at 0.95: 0.004); the truth is
    the pool mean (inputs drawn i.i.d. from the pool). Measured (1000 cells, k = 4 / 8 /
    16): Self-BLEU 0.957 / 0.953 / 0.959, on the more skewed pool 0.952 / 0.942 / 0.937
    (Student t at k = 4: 0.896 and 0.861; the delta-method logit interval this replaced:
    0.925 / 0.924 / 0.924 and 0.913 / 0.902 / 0.888); skewed per-sample metric 0.945 /
    0.948 / 0.947 (t at k = 4: 0.861). docs/statistics.md, "Skewed metrics"."""
    rng = np.random.default_rng([12, k])
    reps = 3000
    per_sample = skewed_per_sample(rng, 200_000)
    two_sided = METRICS["self_bleu"].bounds
    for name, values, bounds, method in (
            ("self_bleu", self_bleu_pools[0.7], two_sided, harness.stats.intervals.METHOD_LOGIT),
            ("self_bleu, skewness 3.4", self_bleu_pools[1.0], two_sided,
             harness.stats.intervals.METHOD_LOGIT),
            ("skewed per-sample", per_sample, (0.0, None), harness.stats.intervals.METHOD_SCALED)):
        truth = float(values.mean())
        ids = rng.integers(0, len(values), (reps, k))
        ivs = [cell_interval(values[i], n_samples=k * M, seed=r, bounds=bounds)
               for r, i in enumerate(ids)]
        assert all(iv.method == method for iv in ivs)
        cov = coverage(ivs, truth)
        t_cov = coverage([cell_interval(values[i], n_samples=k * M, seed=r)
                          for r, i in enumerate(ids[:1000])], truth) if k < 8 else None
        assert 0.93 <= cov <= 0.98, (name, k, cov)
        if t_cov is not None:  # what the interval fixes: t (k < 8) under-covers here
            assert t_cov < cov - 0.015, (name, k, t_cov, cov)


def test_logit_interval_covers_when_its_model_holds():
    """Logit-normal per-input values (the pivot's own model), 3 and 4 inputs: the
    generalized pivot is exact up to Monte-Carlo error, so the hull with Johnson's t covers
    at least 0.95 minus noise (measured 0.962 and 0.961; 2000 cells each, SE 0.005)."""
    rng = np.random.default_rng(31)
    mu, sigma = -1.0, 1.2
    z = rng.standard_normal(2_000_000)
    truth = float(np.mean(1 / (1 + np.exp(-(mu + sigma * z)))))
    for k in (3, 4):
        x = 1 / (1 + np.exp(-(mu + sigma * rng.standard_normal((2000, k)))))
        ivs = [cell_interval(xi, bounds=(0.0, 1.0)) for xi in x]
        cov = coverage(ivs, truth)
        assert 0.94 <= cov <= 0.99, (k, cov)


# ------------------------------------------------- c. no resampling within inputs


def test_two_stage_bootstrap_undercovers_a_set_metric(pool):
    """Resampling an input's samples with replacement puts duplicates in the set, and
    duplicates lower distinct_2: the two-stage bootstrap distribution sits below the truth.
    Measured: coverage 0.00 (100 cells × 200 resamples), mean bootstrap shift -0.23 against
    an SD over inputs of 0.072; the harness's interval on the same cells covers 0.96."""
    rng = np.random.default_rng(3)
    reps, B = 100, 200
    ids = rng.integers(0, len(pool.values), (reps, K))

    @functools.cache
    def resampled(i: int, multiset: tuple[int, ...]) -> float:
        return distinct_2([pool.inputs[i][0][j] for j in multiset])

    covered, shift, harness_covered = 0, 0.0, 0
    for r in range(reps):
        boot = np.empty(B)
        for b in range(B):
            inputs = ids[r, rng.integers(0, K, K)]
            boot[b] = np.mean([resampled(int(i), tuple(sorted(rng.integers(0, M, M))))
                               for i in inputs])
        lo, hi = np.quantile(boot, [ALPHA / 2, 1 - ALPHA / 2])
        covered += lo <= pool.truth <= hi
        shift += (boot.mean() - pool.values[ids[r]].mean()) / reps
        iv = cell_interval(pool.values[ids[r]], n_samples=K * M, seed=r)
        harness_covered += iv.lo <= pool.truth <= iv.hi
    assert covered / reps < 0.2, covered / reps
    assert shift < -2 * pool.values.std(), shift
    assert harness_covered / reps >= 0.85  # 100 cells: a sanity check, not a coverage test

# ------------------------------------------------------ d. per input versus pooled

SEA = ["the waves roll over the grey sea at dawn and the gulls cry",
       "the waves roll over the grey sea at dusk and the gulls cry",
       "the waves roll over the cold grey sea at dawn and the gulls cry"]
MOUNTAIN = ["snow lies deep on the high mountain pass where no trees grow",
            "snow lies deep on the high mountain pass where few trees grow",
            "snow lies deep on the steep high mountain pass where no trees grow"]


def test_set_metrics_per_input_versus_pooled_over_inputs():
    """2 inputs × 3 near-duplicate texts on different topics. Per input (the harness:
    scored per (cell, input), averaged by summarize) the cell is homogeneous; pooled over
    both inputs (the old per-cell scoring) the *pairwise* metrics see the two topics and
    report a diverse cell. distinct-n and Self-BLEU do not: distinct_2 of disjoint
    vocabularies pooled is the length-weighted mean of the per-input values, and Self-BLEU
    clips each n-gram by its best reference, which stays the near-duplicate.
    Measured: homogenization_rougel 0.92 per input vs 0.42 pooled; distinct_2 0.437 vs
    0.437; self_bleu 0.846 vs 0.846."""
    names = ["distinct_2", "self_bleu", "homogenization_rougel"]
    cell = "poem|temperature=0.8"
    texts = {"sea": SEA, "mountain": MOUNTAIN}
    items, score_items = [], []
    for inp, group in texts.items():
        for j, text in enumerate(group):
            key = f"{inp}-{j}"
            items.append({"key": key, "variant": "poem", "input_id": inp, "cell": cell,
                          "grid": {"temperature": 0.8}})
            score_items.append(ScoreItem(text=text, group=(cell, inp), key=key,
                                         context=SampleContext(messages=[], prompt_text="")))
    scores = compute_scores(score_items, names, Resources())
    summary = summarize({"id": "r"}, items, {}, scores.groups)
    per_input = {n: m["mean"] for n, m in summary["cells"][0]["metrics"].items()}
    assert all(m["n_inputs"] == 2 and m["n"] == 6 and m["lo"] is not None
               for m in summary["cells"][0]["metrics"].values())
    pooled = score_set(names, SEA + MOUNTAIN)

    assert per_input["homogenization_rougel"] > 0.85
    assert pooled["homogenization_rougel"] < 0.5  # pooling hides the near-duplicates
    assert per_input["distinct_2"] < 0.5 and per_input["self_bleu"] > 0.8
    assert pooled["distinct_2"] == pytest.approx(per_input["distinct_2"], abs=0.01)
    assert pooled["self_bleu"] == pytest.approx(per_input["self_bleu"], abs=0.01)

# ------------------------------------------------------ e, f. false positives, null


def test_compare_runs_false_positives_under_the_null(pool):
    """Two runs of an unchanged suite, 16 cells × 6 metrics = 96 rows. Under the complete
    null, BH's FDR is its family-wise rate, at most 0.05 (exactly 0.05 for independent
    exact tests). Measured: P(any row significant) 0.0375 over 400 run pairs (SE 0.011;
    the benchmark's independent-rows value is ~0.05); uncorrected paired t: 0.9975.
    Threshold: 0.05 + 2 SE."""
    rng = np.random.default_rng(5)
    reps, any_sig, n_rows = 400, 0, []
    for _ in range(reps):
        result = compare_runs(*two_runs(rng, pool))
        n_rows.append(result["tested"])
        any_sig += any(r["significant"] for r in result["rows"])
    assert set(n_rows) == {N_CELLS * len(NAMES)}
    assert any_sig / reps <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / reps), any_sig / reps


def test_gate_false_failures_under_the_null(pool, fast_gate):
    """The gate on an unchanged rerun, at tolerance 0 (the boundary of the null: the
    hardest case; a positive tolerance only lowers the rate). Holm over the 96 one-sided
    rows keeps P(any row fails) <= 0.05. Measured: 0.030 over 400 run pairs (SE 0.011)."""
    rng = np.random.default_rng(6)
    reps, failed = 400, 0
    for _ in range(reps):
        base, rerun = two_runs(rng, pool)
        rows = run_checks(rerun, [], base, NAMES, tolerance=0.0)
        assert len(rows) == N_CELLS * len(NAMES)
        failed += any(not r["passed"] for r in rows)
    assert failed / reps <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / reps), failed / reps

# --------------------------------------------------------------------------- g. power


def test_paired_power_matches_ttest_rel_and_beats_unpaired():
    """8 inputs × 4 samples, ICC 0.5, B shifted by 0.3 SD. Measured power over 2000
    comparisons: paired_test 0.316 (= scipy ttest_rel; the noncentral-t value is 0.312),
    Welch t over the 32 samples per side 0.173."""
    rng = np.random.default_rng(7)
    reps, shift = 2000, 0.3
    z = nested(rng, (reps,), runs=2)
    xa, xb = z[0], z[1] + shift
    ya, yb = xa.mean(-1), xb.mean(-1)
    ours = np.mean([paired_test(dict(enumerate(a)), dict(enumerate(b))).p < ALPHA
                    for a, b in zip(ya, yb, strict=True)])
    rel = np.mean(st.ttest_rel(yb, ya, axis=1).pvalue < ALPHA)
    welch = np.mean(st.ttest_ind(xb.reshape(reps, -1), xa.reshape(reps, -1), axis=1,
                                 equal_var=False).pvalue < ALPHA)
    assert abs(ours - rel) <= 0.05, (ours, rel)
    assert 0.25 <= ours <= 0.42, ours
    assert ours >= welch + 0.08, (ours, welch)


def test_gate_catches_a_real_regression_and_names_it(pool, fast_gate):
    """self_bleu of one cell gets worse by the tolerance plus 1.5 SD (8 inputs × 4 samples,
    Holm over 96 rows, level 0.05/96 for the first step). Measured: the gate fails in 97 of
    100 run pairs, every time on exactly that row (noncentral-t power 0.97; at 1 SD beyond
    the tolerance it is ~0.6 with 8 inputs)."""
    rng = np.random.default_rng(8)
    target_cell, target = 5, NAMES.index("self_bleu")
    shift = np.zeros((N_CELLS, len(NAMES)))
    shift[target_cell, target] = 0.1 * 0.25 + 1.5 * 0.08  # tolerance × mean + 1.5 SD
    reps, caught, named = 100, 0, 0
    for _ in range(reps):
        base, rerun = two_runs(rng, pool, shift)
        failed = [r for r in run_checks(rerun, [], base, NAMES, tolerance=0.1)
                  if not r["passed"]]
        caught += bool(failed)
        named += [(r["cell"], r["check"].split()[0]) for r in failed] == [
            (CELLS[target_cell], "self_bleu")]
        assert all("worse by" in r["reason"] for r in failed)
    assert caught / reps >= 0.9 and named / reps >= 0.9, (caught, named)

# ----------------------------------------------------------- h. too few inputs


@pytest.mark.parametrize("k", [1, 2])
def test_one_or_two_inputs_are_never_significant(k):
    rng = np.random.default_rng(9)
    for _ in range(50):
        a = {f"in{i}": float(v) for i, v in enumerate(rng.normal(0, 0.01, k))}
        b = {i: v + 100.0 for i, v in a.items()}  # a huge, consistent difference
        t = paired_test(a, b)
        assert t.p is None and t.n_pairs == k and t.diff == pytest.approx(100.0, abs=0.1)
        for alt in ("greater", "less"):
            assert paired_test(a, b, alternative=alt).p is None
    # many samples per input do not help: the unit is the input
    z = nested(rng, (N_CELLS, len(NAMES)), k=k, runs=2)
    ya, yb = z[0].mean(-1), (z[1] + 100.0).mean(-1)
    result = compare_runs(make_summary("a", ya), make_summary("b", yb))
    assert len(result["rows"]) == N_CELLS * len(NAMES) and result["tested"] == 0
    assert not any(r["significant"] for r in result["rows"])
    assert all(r["p"] is None and r["n_pairs"] == k and r["diff"] > 95 for r in result["rows"])
    assert all("a test needs 3" in r["note"] for r in result["rows"])
    with pytest.raises(GateError, match="at least 3 inputs"):
        run_checks(make_summary("b", yb), [], make_summary("a", ya), NAMES)


def test_unshared_inputs_are_never_significant():
    rng = np.random.default_rng(10)
    ya, yb = rng.normal(0, 1, (N_CELLS, len(NAMES), K)), rng.normal(50, 1, (N_CELLS,
                                                                           len(NAMES), K))
    sa, sb = make_summary("a", ya), make_summary("b", yb)
    for c in sb["cells"]:  # rerun on other inputs: nothing to pair
        for m in c["metrics"].values():
            m["inputs"] = {f"other{k}": v for k, v in m["inputs"].items()}
    result = compare_runs(sa, sb)
    assert result["tested"] == 0 and not any(r["significant"] for r in result["rows"])

# ------------------------------------------------------- i. sample-size planning


@pytest.mark.parametrize("sd, effect, alpha, one_sided", [
    (1.0, 0.5, 0.05, True),       # n = 27
    (0.5, 0.6, 0.05, True),       # n = 6
    (2.0, 1.0, 0.05 / 96, True),  # the gate's first Holm step over 96 rows: n = 74
    (1.0, 0.6, 0.05, False),      # two-sided: n = 24
])
def test_inputs_needed_gives_80_percent_power(sd, effect, alpha, one_sided):
    """At n = inputs_needed(sd, effect), a t-test on n simulated paired differences
    N(effect, sd²) rejects with probability ~0.8 (n is the smallest such n, so slightly
    above). And at that n, min_detectable returns an effect no larger than ``effect``,
    detected with ~0.8 power too. Measured over 2000 runs each (SE 0.009): 0.808 / 0.789,
    0.802 / 0.804, 0.804 / 0.806, 0.813 / 0.798."""
    n = inputs_needed(sd, effect, alpha=alpha, one_sided=one_sided)
    mdc = min_detectable(sd, n, alpha=alpha, one_sided=one_sided)
    assert n is not None and mdc <= effect
    rng = np.random.default_rng([11, n])
    alternative = "greater" if one_sided else "two-sided"
    for true_effect in (effect, mdc):
        d = rng.normal(true_effect, sd, (2000, n))
        zero = {i: 0.0 for i in range(n)}
        power = np.mean([paired_test(zero, dict(enumerate(row)),
                                     alternative=alternative).p < alpha for row in d])
        assert abs(power - 0.8) <= 0.06, (n, true_effect, power)
