"""From scores to conclusions: cell summaries with confidence intervals, the
creativity–coherence Pareto frontier, run-vs-run comparison and checks.

A *summary* is a plain JSON-able dict (``SCHEMA_VERSION``); it is what reports render,
what ``harness baseline`` saves and what ``harness check`` compares against.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from harness.metrics import METRICS
from harness.stats import bootstrap_ci, bootstrap_diff_ci

SCHEMA_VERSION = 1
DEFAULT_X = ("embedding_diversity", "distinct_2", "distinct_1")
DEFAULT_Y = ("perplexity", "relevance")
_UP = ("diverse", "coherent", "better")


def summarize(run: dict[str, Any], items: Sequence[dict[str, Any]],
              sample_scores: dict[str, dict[str, float]],
              cell_scores: dict[str, dict[str, float]], plot: dict[str, str] | None = None,
              seed: int = 0) -> dict[str, Any]:
    """Return the summary of a run.

    ``items``: the run's plan rows (key, variant, cell, grid, ...); ``sample_scores``:
    {key: {metric: value}}; ``cell_scores``: {cell: {metric: value}}. Per-sample metrics
    become a cell mean with a seeded percentile-bootstrap 95% CI over the cell's samples;
    set-level metrics are one value per cell (``lo``/``hi`` equal to it).
    """
    cells: dict[str, dict[str, Any]] = {}
    for item in items:
        cell = cells.setdefault(item["cell"], {"cell": item["cell"], "variant": item["variant"],
                                               "grid": item["grid"], "keys": []})
        cell["keys"].append(item["key"])
    names = sorted({m for s in sample_scores.values() for m in s}
                   | {m for s in cell_scores.values() for m in s})
    out_cells = []
    for cell in cells.values():
        metrics: dict[str, dict[str, float]] = {}
        for name in names:
            values = [sample_scores[k][name] for k in cell["keys"]
                      if name in sample_scores.get(k, {})]
            if values:
                mean, lo, hi = bootstrap_ci(values, seed=seed)
                metrics[name] = {"mean": mean, "lo": lo, "hi": hi, "n": len(values)}
            elif name in cell_scores.get(cell["cell"], {}):
                v = cell_scores[cell["cell"]][name]
                metrics[name] = {"mean": v, "lo": v, "hi": v, "n": len(cell["keys"])}
        out_cells.append({"cell": cell["cell"], "variant": cell["variant"],
                          "grid": cell["grid"], "n": len(cell["keys"]), "metrics": metrics})
    x, y = _axes(names, plot or {})
    return {
        "schema_version": SCHEMA_VERSION,
        "run": run,
        "metrics": {n: _describe(n) for n in names},
        "cells": out_cells,
        "pareto": {"x": x, "y": y, "cells": pareto_frontier(out_cells, x, y)},
    }


def _describe(name: str) -> dict[str, Any]:
    spec = METRICS.get(name)
    if spec is None:
        return {"kind": "sample", "higher_is": None, "description": "", "source": ""}
    return {"kind": spec.kind, "higher_is": spec.higher_is, "description": spec.description,
            "source": spec.source}


def _axes(names: Sequence[str], plot: dict[str, str]) -> tuple[str | None, str | None]:
    x = plot.get("x") or next((m for m in DEFAULT_X if m in names), None)
    y = plot.get("y") or next((m for m in DEFAULT_Y if m in names), None)
    return x, y


def better_when_higher(metric: str) -> bool | None:
    """True if a higher value of ``metric`` is better/more diverse/more coherent, False if
    lower is better, None when the metric has no direction."""
    spec = METRICS.get(metric)
    if spec is None or spec.higher_is is None:
        return None
    return spec.higher_is in _UP


def pareto_frontier(cells: Sequence[dict[str, Any]], x: str | None, y: str | None) -> list[str]:
    """Return the ids of cells no other cell beats on both ``x`` and ``y``.

    Each axis is oriented by its metric's direction (e.g. more diverse is better on x,
    lower perplexity is better on y). A cell dominates another if it is at least as good on
    both and strictly better on one.
    """
    if not x or not y:
        return []
    sx = 1.0 if better_when_higher(x) is not False else -1.0
    sy = 1.0 if better_when_higher(y) is not False else -1.0
    points = [(c["cell"], sx * c["metrics"][x]["mean"], sy * c["metrics"][y]["mean"])
              for c in cells if x in c["metrics"] and y in c["metrics"]]
    frontier = []
    for cid, px, py in points:
        dominated = any(qx >= px and qy >= py and (qx > px or qy > py)
                        for other, qx, qy in points if other != cid)
        if not dominated:
            frontier.append(cid)
    return frontier


# -- comparisons and checks ----------------------------------------------------------

def compare(a: dict[str, Any], b: dict[str, Any], sample_a: dict[str, dict[str, list[float]]]
            | None = None, sample_b: dict[str, dict[str, list[float]]] | None = None,
            seed: int = 0) -> dict[str, Any]:
    """Compare two summaries cell by cell: values, difference (b - a), and, when the raw
    per-sample values of both sides are given ({cell: {metric: [values]}}), a bootstrap CI
    of the difference with ``significant`` set when it excludes zero."""
    cells_a = {c["cell"]: c for c in a["cells"]}
    cells_b = {c["cell"]: c for c in b["cells"]}
    rows = []
    for cid in [c for c in cells_a if c in cells_b]:
        ma, mb = cells_a[cid]["metrics"], cells_b[cid]["metrics"]
        for metric in sorted(set(ma) & set(mb)):
            row = {"cell": cid, "metric": metric, "a": ma[metric]["mean"],
                   "b": mb[metric]["mean"], "diff": mb[metric]["mean"] - ma[metric]["mean"],
                   "lo": None, "hi": None, "significant": None}
            va = (sample_a or {}).get(cid, {}).get(metric)
            vb = (sample_b or {}).get(cid, {}).get(metric)
            if va and vb:
                _, lo, hi = bootstrap_diff_ci(va, vb, seed=seed)
                row.update(lo=lo, hi=hi, significant=lo > 0 or hi < 0)
            rows.append(row)
    return {"rows": rows, "only_a": sorted(set(cells_a) - set(cells_b)),
            "only_b": sorted(set(cells_b) - set(cells_a))}


def evaluate_checks(summary: dict[str, Any], checks: Sequence[Any],
                    baseline: dict[str, Any] | None = None, tolerance: float = 0.0
                    ) -> list[dict[str, Any]]:
    """Evaluate suite checks on every matching cell; return one result row per (check, cell).

    Absolute checks (``metric op value``) hold on each cell's mean. Relative checks
    (``max_increase`` / ``max_decrease``) need ``baseline`` and compare each cell with the
    same cell there; ``tolerance`` is added to every allowed change. A check whose metric a
    cell lacks fails with that reason (a silently skipped check would pass a broken run).
    """
    base_cells = {c["cell"]: c for c in (baseline or {}).get("cells", [])}
    results = []
    for check in checks:
        for cell in summary["cells"]:
            if check.variant and cell["variant"] != check.variant:
                continue
            row = {"check": check.describe(), "cell": cell["cell"], "value": None,
                   "baseline": None, "passed": False, "reason": ""}
            m = cell["metrics"].get(check.metric)
            if m is None:
                row["reason"] = f"metric {check.metric} not computed"
                results.append(row)
                continue
            row["value"] = m["mean"]
            if check.op is not None:
                row["passed"] = _compare(m["mean"], check.op, check.value)
                if not row["passed"]:
                    row["reason"] = f"{m['mean']:.4g} violates {check.op} {check.value:g}"
            else:
                base = base_cells.get(cell["cell"], {}).get("metrics", {}).get(check.metric)
                if base is None:
                    row["reason"] = "no baseline value for this cell"
                    results.append(row)
                    continue
                row["baseline"] = base["mean"]
                change = m["mean"] - base["mean"]
                if check.max_increase is not None:
                    row["passed"] = change <= check.max_increase + tolerance
                else:
                    row["passed"] = -change <= check.max_decrease + tolerance
                if not row["passed"]:
                    row["reason"] = f"changed by {change:+.4g} from baseline {base['mean']:.4g}"
            results.append(row)
    return results


def regressions(summary: dict[str, Any], baseline: dict[str, Any], metrics: Sequence[str],
                tolerance: float) -> list[dict[str, Any]]:
    """Return one row per (cell, metric) where ``summary`` got worse than ``baseline`` by
    more than ``tolerance`` (relative to the baseline value, in the metric's bad direction);
    metrics without a direction are not judged."""
    rows = []
    base_cells = {c["cell"]: c for c in baseline.get("cells", [])}
    for cell in summary["cells"]:
        base = base_cells.get(cell["cell"])
        if base is None:
            continue
        for metric in metrics:
            up = better_when_higher(metric)
            if up is None or metric not in cell["metrics"] or metric not in base["metrics"]:
                continue
            new, old = cell["metrics"][metric]["mean"], base["metrics"][metric]["mean"]
            worse = (old - new) if up else (new - old)
            allowed = tolerance * max(abs(old), 1e-9)
            rows.append({"cell": cell["cell"], "metric": metric, "baseline": old, "value": new,
                         "passed": worse <= allowed,
                         "reason": "" if worse <= allowed else
                         f"worse by {worse:.4g} (> {tolerance:.0%} of {old:.4g})"})
    return rows


def _compare(value: float, op: str, bound: float) -> bool:
    if math.isnan(value):
        return False
    return {"<=": value <= bound, ">=": value >= bound, "<": value < bound,
            ">": value > bound}[op]
