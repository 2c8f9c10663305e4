"""harness.stats.intervals against independent implementations (scipy) and worked examples."""

import numpy as np
import pytest
from scipy import stats

from harness.stats.intervals import (
    METHOD_BOOT_T,
    METHOD_LOGIT,
    METHOD_NONE,
    METHOD_ONE_INPUT,
    METHOD_SCALED,
    METHOD_T,
    adjust,
    cell_interval,
    inputs_needed,
    min_detectable,
    paired_test,
    scaled_interval,
)


def test_paired_test_matches_scipy_ttest_rel():
    rng = np.random.default_rng(3)
    a = rng.normal(0, 1, 9)
    b = a + rng.normal(0.4, 0.5, 9)
    ids = [f"in{i}" for i in range(9)]
    da, db = dict(zip(ids, a, strict=True)), dict(zip(ids, b, strict=True))
    t = paired_test(da, db)
    ref = stats.ttest_rel(b, a)
    assert t.p == pytest.approx(ref.pvalue, rel=1e-12)
    assert t.diff == pytest.approx((b - a).mean())
    lo, hi = ref.confidence_interval(0.95)
    assert (t.lo, t.hi) == (pytest.approx(lo), pytest.approx(hi))
    one = paired_test(da, db, margin=0.1, alternative="greater")
    assert one.p == pytest.approx(stats.ttest_1samp(b - a, 0.1, alternative="greater").pvalue)


def test_paired_test_pairs_by_input_id_not_position():
    a = {"x": 1.0, "y": 5.0, "z": 9.0, "w": 2.0}
    b = {"w": 2.5, "z": 9.4, "y": 5.6, "x": 1.45, "only_b": 100.0}
    t = paired_test(a, b)
    assert t.n_pairs == 4 and t.diff == pytest.approx(0.4875)


def test_paired_test_never_significant_on_one_or_two_pairs():
    assert paired_test({"a": 10.0}, {"a": 10.1}).p is None
    assert paired_test({"a": 1.0, "b": 2.0}, {"a": 9.0, "b": 10.0}).p is None


def test_paired_test_exact_when_differences_are_constant():
    a = {"a": 1.0, "b": 2.0, "c": 3.0}
    assert paired_test(a, a).p == 1.0
    assert paired_test(a, {k: v + 1 for k, v in a.items()}).p == 0.0
    assert paired_test(a, {k: v + 1 for k, v in a.items()}, margin=2,
                       alternative="greater").p == 1.0


def test_adjust_matches_worked_examples():
    # Holm (1979) and BH (1995) on p = .01, .04, .03, .005 (m = 4)
    p = [0.01, 0.04, 0.03, 0.005]
    assert adjust(p, "holm") == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert adjust(p, "bh") == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert adjust([None, 0.2, None], "holm") == [None, pytest.approx(0.2), None]
    assert adjust([], "bh") == []
    # scipy's independent BH implementation agrees
    q = np.random.default_rng(1).uniform(size=50)
    assert adjust(list(q), "bh") == pytest.approx(list(stats.false_discovery_control(q)))


def test_cell_interval_methods_by_number_of_inputs():
    assert cell_interval([]).lo is None
    one = cell_interval([0.5], n_samples=4)
    assert one.method == METHOD_NONE and one.lo is None and one.n_samples == 4
    within = cell_interval([2.0], [[1.0, 2.0, 3.0]])
    lo, hi = stats.t.interval(0.95, 2, loc=2.0, scale=stats.sem([1.0, 2.0, 3.0]))
    assert within.method == METHOD_ONE_INPUT and (within.lo, within.hi) == (
        pytest.approx(lo), pytest.approx(hi))
    three = cell_interval([1.0, 2.0, 4.0])
    lo, hi = stats.t.interval(0.95, 2, loc=np.mean([1, 2, 4]), scale=stats.sem([1, 2, 4]))
    assert three.method == METHOD_T and (three.lo, three.hi) == (pytest.approx(lo),
                                                                 pytest.approx(hi))
    x = np.random.default_rng(0).normal(5, 1, 8)
    eight = cell_interval(x, seed=1)
    assert eight.method == METHOD_BOOT_T and eight.n_inputs == 8
    assert eight.lo < x.mean() < eight.hi
    assert cell_interval(x, seed=1) == eight  # seeded
    # close to the t interval for normal data
    lo, hi = stats.t.interval(0.95, 7, loc=x.mean(), scale=stats.sem(x))
    assert eight.lo == pytest.approx(lo, abs=0.25 * (hi - lo))
    assert eight.hi == pytest.approx(hi, abs=0.25 * (hi - lo))
    same = cell_interval([0.3] * 6)
    assert (same.lo, same.hi) == (0.3, 0.3)
    # 4-7 inputs: Student t (the bootstrap-t is erratic there, see docs/statistics.md)
    five = cell_interval([1.0, 2.0, 4.0, 3.0, 2.5])
    assert five.method == METHOD_T
    # tied input values (a pass rate): t, not a one-sided bootstrap-t
    rate = cell_interval([1.0] * 7 + [0.0], bounds=(0.0, 1.0))
    assert rate.method == METHOD_T and rate.lo < 0.7


def test_cell_interval_is_clipped_to_the_metrics_range():
    raw = cell_interval([0.99, 0.2, 0.97])
    assert raw.hi > 1.0 and raw.lo < 0.0  # Student t with 2 df on bounded values
    # a value on a bound: Student t, clipped
    clipped = cell_interval([1.0, 0.2, 0.97], bounds=(0.0, 1.0))
    assert (clipped.lo, clipped.hi) == (0.0, 1.0) and clipped.method == METHOD_T
    # all inside: the logit-scale interval (widened to Johnson's t, which may leave the
    # bounds at 2 df: clipped)
    inside = cell_interval([0.99, 0.2, 0.97], bounds=(0.0, 1.0))
    assert inside.method == METHOD_LOGIT and inside.mean == raw.mean
    assert 0.0 <= inside.lo < inside.mean < inside.hi <= 1.0
    narrow = cell_interval([0.3, 0.35, 0.4, 0.33], bounds=(0.0, 1.0))
    assert 0.0 < narrow.lo < narrow.mean < narrow.hi < 1.0
    skewed = cell_interval([2.0, 900.0, 5.0], bounds=(1.0, None))  # log(x - 1) scale
    assert skewed.method == METHOD_SCALED and 1.0 < skewed.lo < 2.0 < 900.0 < skewed.hi


def test_scaled_interval_is_cox_for_log_normal_values():
    """On the log scale the interval is Cox's for a log-normal mean: exp(ybar + s²/2 ±
    t·sqrt(s²/k + s⁴/(2(k − 1)))) (Zhou & Gao 1997), here with k − 1 df."""
    y = np.array([0.1, 0.5, -0.3, 1.2, 0.4])
    k, m, s2 = y.size, y.mean(), y.var(ddof=1)
    half = stats.t.ppf(0.975, k - 1) * np.sqrt(s2 / k + s2 ** 2 / (2 * (k - 1)))
    lo, hi = scaled_interval(np.exp(y), (0.0, None))  # type: ignore[misc]
    assert (lo, hi) == pytest.approx((np.exp(m + s2 / 2 - half), np.exp(m + s2 / 2 + half)),
                                     rel=1e-5)
    assert scaled_interval([0.2, 0.3], (0.0, 1.0)) is None  # too few inputs
    assert scaled_interval([0.0, 0.2, 0.3], (0.0, 1.0)) is None  # a value on a bound
    assert scaled_interval([0.2, 0.3, 0.4], (None, None)) is None  # unbounded metric


def test_a_scaled_interval_that_overflows_falls_back_to_t():
    """Values spread over hundreds of orders of magnitude: exp of the log-scale end
    overflows, so the interval is not the log-scale one (and nothing raises)."""
    iv = cell_interval([1.5, 1e200, 1e300, 2.0], bounds=(1.0, None))
    assert iv.method == METHOD_T and iv.lo is not None and iv.hi is not None
    assert scaled_interval([1.5, 1e200, 1e300, 2.0], (1.0, None)) is None


def test_logit_interval_is_the_hull_of_the_pivot_and_johnsons_t():
    """A worked example: Johnson's modified t, ``xbar + m3/(6 s² k) ± t s/sqrt(k)``, is
    computed here by hand; the interval contains it, contains the mean, stays inside
    (0, 1) after clipping, and is a function of the data alone (same data, same interval)."""
    x = np.array([0.02, 0.03, 0.05, 0.31])  # one small-vocabulary input: right-skewed
    k, m, s = x.size, x.mean(), x.std(ddof=1)
    m3 = k * np.sum((x - m) ** 3) / ((k - 1) * (k - 2))
    centre = m + m3 / (6 * s * s * k)
    half = stats.t.ppf(0.975, k - 1) * s / np.sqrt(k)
    lo, hi = scaled_interval(x, (0.0, 1.0))  # type: ignore[misc]
    assert centre > m  # the skew correction moves the interval up
    assert lo <= min(centre - half, m) and hi >= centre + half - 1e-12
    assert (lo, hi) == scaled_interval(list(x), (0.0, 1.0))
    iv = cell_interval(x, bounds=(0.0, 1.0))
    assert iv.method == METHOD_LOGIT and 0.0 <= iv.lo < m < iv.hi < 1.0


def test_bootstrap_t_interval_is_asymmetric_for_skewed_inputs():
    x = np.exp(np.random.default_rng(4).normal(0, 1, 12))
    iv = cell_interval(x, seed=0)
    assert iv.hi - iv.mean > iv.mean - iv.lo  # a long right tail widens the upper side


def test_min_detectable_matches_statsmodels_and_inputs_needed_inverts_it():
    from statsmodels.stats.power import TTestPower

    mdc = min_detectable(2.0, 10, alpha=0.05, power=0.8)
    assert TTestPower().power(effect_size=mdc / 2.0, nobs=10, alpha=0.05,
                              alternative="larger") == pytest.approx(0.8, abs=1e-4)
    n = inputs_needed(2.0, 1.0)
    assert min_detectable(2.0, n) <= 1.0 < min_detectable(2.0, n - 1)
    assert min_detectable(1.0, 2) is None and inputs_needed(1.0, 0.0) is None


def test_summary_from_inputs_feeds_comparisons_and_the_gate():
    from harness.stats.comparisons import compare_runs
    from harness.stats.gate import run_checks
    from harness.summarize.cells import summary_from_inputs

    base = {"v|temperature=0.7": {"distinct_2": {f"i{j}": 0.5 + 0.01 * j for j in range(6)}}}
    worse = {"v|temperature=0.7": {"distinct_2": {f"i{j}": 0.3 + 0.01 * j + 0.002 * (j % 2)
                                                  for j in range(6)}}}
    a = summary_from_inputs(base, "a", samples_per_input=4)
    b = summary_from_inputs(worse, "b", samples_per_input=4)
    m = a["cells"][0]["metrics"]["distinct_2"]
    assert m["n"] == 24 and m["n_inputs"] == 6 and m["lo"] < m["mean"] < m["hi"]
    assert a["cells"][0]["grid"] == {"temperature": "0.7"}
    row = compare_runs(a, b)["rows"][0]
    assert row["significant"] and row["better"] == "A" and row["n_pairs"] == 6
    failed = [r for r in run_checks(b, [], a, ["distinct_2"]) if not r["passed"]]
    assert [r["check"].split()[0] for r in failed] == ["distinct_2"]
