"""The CI gate: a suite's absolute checks, and regressions against a baseline that fail
only when they can be told from noise.

- Absolute checks (``distinct_2 >= 0.3``) hold on each cell's mean.
- Relative checks (the suite's ``max_increase`` / ``max_decrease``, and the regression
  rows of ``harness check --baseline``: each judged metric may get worse by at most
  ``tolerance`` × |baseline mean|) are one-sided paired t-tests over the inputs the run
  and the baseline share: H0 "worse by at most the allowed change" against H1 "worse by
  more". A row fails when its Holm-adjusted p-value is below ``alpha``; Holm runs across
  every relative row of the gate, so an unchanged prompt fails the whole gate with
  probability at most ``alpha`` (family-wise). Each row says the smallest worsening it
  would catch with 80% power (``mdc``) and, when the estimate is worse than allowed but
  not beyond noise, how many inputs would decide it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from harness.analysis import better_when_higher
from harness.stats import ALPHA, MIN_PAIRS, adjust, inputs_needed, min_detectable, paired_test
from harness.suite import Check

POWER = 0.8


class GateError(ValueError):
    """The gate cannot judge anything (no shared cells, unknown metric, old baseline)."""


def run_checks(summary: dict[str, Any], checks: Sequence[Check],
               baseline: dict[str, Any] | None, metrics: Sequence[str] = (),
               tolerance: float = 0.1, alpha: float = ALPHA) -> list[dict[str, Any]]:
    """Return one row per (check, cell): absolute checks, then relative ones.

    With ``baseline``, ``metrics`` (default: the plot's x and y axes) are judged for
    regressions with relative ``tolerance``. Raises ``GateError`` when a baseline is given
    but nothing can be compared with it.
    """
    # a cell the metric does not apply to (no constraint, persona, reference) has no row
    rows = [_absolute(check, cell) for check in checks if check.op is not None
            for cell in _cells(summary, check)
            if check.metric in cell["metrics"] or check.metric not in summary["metrics"]]
    # (check or None for a regression row, metric, bad direction, allowed change or None,
    #  relative tolerance or None)
    relative: list[tuple[Check | None, str, str, float | None, float | None]] = [
        (c, c.metric, "increase" if c.max_increase is not None else "decrease",
         c.max_increase if c.max_increase is not None else c.max_decrease, None)
        for c in checks if c.op is None]
    if baseline is not None:
        # default: the plot's axes that have a better direction (a length axis has none)
        judged = list(metrics) or [m for m in (summary["pareto"]["x"], summary["pareto"]["y"])
                                   if m and better_when_higher(m) is not None]
        if not judged:
            raise GateError("nothing to judge against the baseline: the plot's axes have no "
                            "better direction; name metrics with --metric")
        for m in judged:
            if m not in summary["metrics"]:
                raise GateError(f"metric {m!r} is not computed by this suite; it computes: "
                                + ", ".join(summary["metrics"]))
            up = better_when_higher(m)
            if up is None:
                raise GateError(f"metric {m!r} has no better direction; judge it with a "
                                "max_increase/max_decrease check instead")
            relative.append((None, m, "decrease" if up else "increase", None, tolerance))
    pending = []
    base_cells = {c["cell"]: c for c in (baseline or {}).get("cells", [])}
    if baseline is not None:
        _check_baseline(summary, baseline, base_cells)
    for check, metric, bad, allowed, rel in relative:
        for cell in _cells(summary, check):
            pending.append(_relative(check, metric, bad, allowed, rel, cell,
                                     base_cells.get(cell["cell"]), alpha))
    tested = [r for r in pending if r["p"] is not None]
    if baseline is not None and pending and not tested:
        raise GateError(f"no baseline comparison can be tested: a paired test needs at least "
                        f"{MIN_PAIRS} inputs shared with the baseline per cell "
                        f"({pending[0]['reason']})")
    level = alpha / max(1, len(tested))  # Holm's first step: the MDC is for this level
    for row, p_adj in zip(pending, adjust([r["p"] for r in pending], "holm"), strict=True):
        _decide(row, p_adj, alpha, level)
    return rows + pending


def _cells(summary: dict[str, Any], check: Check | None) -> list[dict[str, Any]]:
    return [c for c in summary["cells"]
            if check is None or not check.variant or c["variant"] == check.variant]


def _absolute(check: Check, cell: dict[str, Any]) -> dict[str, Any]:
    row = _row(check.describe(), cell["cell"])
    m = cell["metrics"].get(check.metric)
    if m is None:
        row["reason"] = f"metric {check.metric} not computed"
        return row
    row["value"] = m["mean"]
    assert check.op is not None and check.value is not None
    row["passed"] = _holds(m["mean"], check.op, check.value)
    if not row["passed"]:
        row["reason"] = f"{m['mean']:.4g} violates {check.op} {check.value:g}"
    return row


def _row(check: str, cell: str) -> dict[str, Any]:
    return {"check": check, "cell": cell, "value": None, "baseline": None, "passed": False,
            "reason": "", "p": None, "p_adj": None, "n_inputs": 0, "worse_by": None,
            "allowed": None, "mdc": None, "more_inputs": None, "sd": None}


def _check_baseline(summary: dict[str, Any], baseline: dict[str, Any],
                    base_cells: dict[str, Any]) -> None:
    if not base_cells:
        raise GateError("the baseline has no cells: nothing to compare with")
    shared = [c for c in summary["cells"] if c["cell"] in base_cells]
    if not shared:
        raise GateError("the baseline shares no cell with this run (baseline cells: "
                        + ", ".join(sorted(base_cells)[:5]) + "); was it made from this suite?")
    has_inputs = any(m.get("inputs") for c in base_cells.values()
                     for m in c.get("metrics", {}).values())
    if not has_inputs:
        raise GateError("the baseline has no per-input values (it was written by an older "
                        "harness); write it again with `harness baseline RUN -o FILE`")


def _relative(check: Check | None, metric: str, bad: str, allowed: float | None,
              rel: float | None, cell: dict[str, Any], base_cell: dict[str, Any] | None,
              alpha: float) -> dict[str, Any]:
    label = check.describe() if check is not None else (
        f"{metric} no worse than baseline (tolerance {rel:.0%})")
    row = _row(label, cell["cell"])
    cur = cell["metrics"].get(metric)
    base = (base_cell or {}).get("metrics", {}).get(metric)
    if cur is None:
        row["reason"] = f"metric {metric} not computed"
        return row
    row["value"] = cur["mean"]
    if base is None:
        row["reason"] = "no baseline value for this cell"
        return row
    row["baseline"] = base["mean"]
    margin = allowed if allowed is not None else (rel or 0.0) * abs(base["mean"])
    row["allowed"] = margin
    old, new = base.get("inputs") or {}, cur.get("inputs") or {}
    # worsening per input is new - old (increase is bad) or old - new (decrease is bad)
    a, b = (old, new) if bad == "increase" else (new, old)
    t = paired_test(a, b, alpha=alpha, margin=margin, alternative="greater")
    row.update(p=t.p, n_inputs=t.n_pairs, worse_by=t.diff, sd=t.sd)
    if t.p is None:
        row["passed"] = True
        row["reason"] = (f"not judged: {t.n_pairs} input(s) shared with the baseline, a test "
                         f"needs {MIN_PAIRS}")
    return row


def _decide(row: dict[str, Any], p_adj: float | None, alpha: float, level: float) -> None:
    if row["p"] is None:
        return
    row["p_adj"] = p_adj
    n, sd, worse, margin = row["n_inputs"], row["sd"], row["worse_by"], row["allowed"]
    if sd is not None and sd > 0:
        row["mdc"] = margin + (min_detectable(sd, n, level, POWER) or math.inf)
    row["passed"] = not (p_adj is not None and p_adj < alpha)
    if not row["passed"]:
        row["reason"] = (f"worse by {worse:.4g} (allowed {margin:.4g}); p_adj {p_adj:.2g} "
                         f"over {n} inputs")
    elif sd == 0 and worse == 0:
        row["reason"] = "identical to the baseline"
    elif worse > margin:
        need = inputs_needed(sd or 0.0, worse - margin, level, POWER)
        row["more_inputs"] = None if need is None else max(0, need - n)
        row["reason"] = (f"worse by {worse:.4g} > allowed {margin:.4g} but within noise "
                         f"(p_adj {p_adj:.2g}); "
                         + (f"about {need} inputs would decide it" if need else
                            "no practical number of inputs would decide it"))
    else:
        row["reason"] = (f"{'worse' if worse > 0 else 'better'} by {abs(worse):.4g}; "
                         f"allowed {margin:.4g}")


def _holds(value: float, op: str, bound: float) -> bool:
    if math.isnan(value):
        return False
    return {"<=": value <= bound, ">=": value >= bound, "<": value < bound,
            ">": value > bound}[op]
