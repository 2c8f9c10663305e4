"""Krippendorff's alpha from value counts, with every leave-one-unit-out alpha at the cost
of one: the exact arithmetic behind ``harness.stats.agreement.krippendorff_alpha``.

The PyPI ``krippendorff`` package gives alpha of one data set; the jackknife interval needs
``U`` more (each with one unit left out), and the package holds units x values^2 floats at
once. Here each leave-one-out alpha is an update of the coincidence totals of all units, so
the ``U + 1`` alphas cost about as much as one. ``tests/stats/test_agreement.py`` checks
every value against the package.
"""

from __future__ import annotations

import numpy as np


def alpha_jackknife(counts: np.ndarray, domain: np.ndarray, level: str
                    ) -> tuple[float, np.ndarray]:
    """Alpha of all units and the ``U`` alphas with one unit left out, from the value
    counts (units x values, every unit with 2 or more values), with the coincidence-matrix
    formulas of ``harness.stats.agreement.krippendorff_alpha``. Leaving unit ``u`` out
    removes its coincidences ``(c_u c_u' - diag c_u) / (m_u - 1)`` and its values ``c_u``
    from the margins, so every leave-one-out alpha is an update of the totals (memory:
    units x values, plus values^2 for the ratio level)."""
    c = counts.astype(np.float64)
    m = c.sum(axis=1)
    if level in ("interval", "ordinal"):
        # interval: d_ck = (x_c - x_k)^2. Ordinal: the same with x_g = the mid-rank of value
        # g among the pairable values, N_<g + n_g / 2, which depends on the margins.
        x = domain.astype(np.float64) if level == "interval" else _midranks(c.sum(axis=0))
        whole = float(_interval_alpha(c, m, x)[0])
        if level == "interval":
            return whole, _interval_alpha(c, m, x, leave_out=True)
        return whole, np.array([_interval_alpha(np.delete(c, u, axis=0), np.delete(m, u),
                                                _midranks(c.sum(axis=0) - c[u]))[0]
                                for u in range(c.shape[0])])
    n_c = c.sum(axis=0)
    total = float(m.sum())
    if level == "nominal":  # d = 1 - I
        q = m ** 2 - (c ** 2).sum(axis=1)  # c_u' d c_u
        r = m * total - c @ n_c  # c_u' d n
        dnn = total ** 2 - float((n_c ** 2).sum())  # n' d n
    else:  # ratio
        s = domain[:, None] + domain[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(s > 0, ((domain[:, None] - domain[None, :]) / s) ** 2, 0.0)
        q = ((c @ d) * c).sum(axis=1)
        r = c @ (d @ n_c)
        dnn = float(n_c @ d @ n_c)
    within = q / (m - 1)  # unit u's share of sum_ck o_ck d_ck (d_cc = 0)
    w = float(within.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        full = 1 - (total - 1) * w / dnn
        loo = 1 - (total - m - 1) * (w - within) / (dnn - 2 * r + q)
    return float(full), np.asarray(loo, dtype=np.float64)


def _midranks(n_c: np.ndarray) -> np.ndarray:
    return np.cumsum(n_c) - n_c / 2


def _interval_alpha(c: np.ndarray, m: np.ndarray, x: np.ndarray, leave_out: bool = False
                    ) -> np.ndarray:
    """Interval alpha with values ``x`` (one per column of ``c``): ``D_o`` sums, over units,
    ``sum_{i != j} (x_i - x_j)^2 / (m_u - 1) = 2 (m_u S2_u - S1_u^2) / (m_u - 1)``, ``D_e``
    is ``2 (n S2 - S1^2) / (n (n - 1))`` over all values (S1, S2: sums of x and x^2). With
    ``leave_out``, one alpha per unit left out; else a 1-element array."""
    total = float(m.sum())
    xc = x - float(c.sum(axis=0) @ x) / total  # centred: the sums of squares stay exact
    s1, s2 = c @ xc, c @ xc ** 2
    within = 2 * (m * s2 - s1 ** 2) / (m - 1)
    sums = np.array([[total], [s1.sum()], [s2.sum()], [within.sum()]])
    if leave_out:
        sums = sums - np.stack([m, s1, s2, within])
    n_all, t1, t2, w = sums
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(1 - (n_all - 1) * w / (2 * (n_all * t2 - t1 ** 2)), dtype=np.float64)
