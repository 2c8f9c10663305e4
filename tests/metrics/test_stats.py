import numpy as np
import pytest

from harness.stats import bootstrap_ci, bootstrap_diff_ci


def test_bootstrap_ci_defined_edges():
    assert bootstrap_ci([]) == (0.0, 0.0, 0.0)
    assert bootstrap_ci([3.5]) == (3.5, 3.5, 3.5)
    assert bootstrap_ci([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)


def test_bootstrap_ci_is_seeded_percentile_interval():
    x = np.random.default_rng(1).normal(10, 2, size=200)
    mean, lo, hi = bootstrap_ci(x, n_resamples=2000, seed=7)
    assert mean == pytest.approx(x.mean())
    assert bootstrap_ci(x, n_resamples=2000, seed=7) == (mean, lo, hi)
    # the same computation by hand
    rng = np.random.default_rng(7)
    means = x[rng.integers(0, len(x), size=(2000, len(x)))].mean(axis=1)
    assert (lo, hi) == tuple(np.quantile(means, [0.025, 0.975]))
    # close to the normal-theory interval mean +- 1.96 s / sqrt(n)
    se = x.std(ddof=1) / np.sqrt(len(x))
    assert lo == pytest.approx(mean - 1.96 * se, abs=0.1 * se * 1.96 + 0.02)
    assert hi == pytest.approx(mean + 1.96 * se, abs=0.1 * se * 1.96 + 0.02)
    narrower = bootstrap_ci(x, n_resamples=2000, seed=7, alpha=0.5)
    assert lo < narrower[1] < narrower[2] < hi


def test_bootstrap_diff_ci():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 100), rng.normal(1, 1, 80)
    diff, lo, hi = bootstrap_diff_ci(a, b, seed=3)
    assert diff == pytest.approx(b.mean() - a.mean())
    assert 0 < lo < diff < hi
    same = bootstrap_diff_ci(a, a, seed=3)
    assert same[0] == 0.0 and same[1] < 0 < same[2]
    assert bootstrap_diff_ci([], [1.0]) == (0.0, 0.0, 0.0)
    assert bootstrap_diff_ci([1.0], [3.0]) == (2.0, 2.0, 2.0)
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, 2.0], alpha=0)
