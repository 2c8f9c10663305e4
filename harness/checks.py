"""CI gating: a suite's own checks plus regression against a baseline, as result rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.analysis import evaluate_checks, regressions
from harness.suite import Check


def run_checks(summary: dict[str, Any], checks: Sequence[Check],
               baseline: dict[str, Any] | None, metrics: Sequence[str] = (),
               tolerance: float = 0.1) -> list[dict[str, Any]]:
    """Return one row per (check, cell): the suite's checks, then — with a baseline — a
    regression row per (cell, metric) for ``metrics`` (default: the plot's x and y axes)
    saying whether the cell got worse than the baseline by more than ``tolerance``."""
    rows = evaluate_checks(summary, checks, baseline, tolerance=0.0)
    if baseline is not None:
        judged = list(metrics) or [m for m in (summary["pareto"]["x"], summary["pareto"]["y"])
                                   if m]
        for r in regressions(summary, baseline, judged, tolerance):
            rows.append({"check": f"{r['metric']} no worse than baseline (±{tolerance:.0%})",
                         "cell": r["cell"], "value": r["value"], "baseline": r["baseline"],
                         "passed": r["passed"], "reason": r["reason"]})
    return rows
