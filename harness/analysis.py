"""From scores to conclusions: cell summaries with intervals over inputs, the
creativity–coherence Pareto frontier, best-of-column with ties.

A *summary* is a plain JSON-able dict (``SCHEMA_VERSION``); it is what reports render,
what ``harness baseline`` saves and what ``harness check`` compares against. Every cell
metric carries its per-input values (``inputs``), so comparisons and the gate can pair by
input from a summary alone. Unit of analysis and methods: ``harness.stats`` and
docs/statistics.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from harness.metrics import METRICS, MetricSpec, pool_values, value_bounds
from harness.stats import ALPHA, cell_interval

SCHEMA_VERSION = 2
DEFAULT_X = ("embedding_diversity", "distinct_2", "distinct_1")
DEFAULT_Y = ("perplexity", "relevance")
_UP = ("diverse", "coherent", "better")
JUDGED = ("judge.", "human.")  # judges' and human raters' values: higher is better
POOLED = "no interval: pooled over inputs (a run scored before per-input set metrics)"


def summarize(run: dict[str, Any], items: Sequence[dict[str, Any]],
              sample_scores: dict[str, dict[str, float]],
              set_scores: dict[tuple[str, str], dict[str, float]],
              plot: dict[str, str] | None = None, seed: int = 0,
              pooled: dict[str, dict[str, float]] | None = None,
              described: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return the summary of a run.

    ``items``: the run's plan rows (key, variant, input_id, cell, grid, ...);
    ``sample_scores``: {key: {metric: value}}; ``set_scores``: {(cell, input id): {metric:
    value}} for set-level metrics, each computed over that input's samples. Each cell
    metric is ``{"mean", "lo", "hi", "n", "n_inputs", "method", "inputs"}``: the mean over
    inputs of the per-input values (an input's value is the mean of its samples for a
    per-sample metric), its 95% interval (``harness.stats.cell_interval``; ``lo``/``hi``
    None when there is none, ``method`` says why), the sample and input counts, and
    ``{input id: value}``. ``pooled``: set-level values of old runs scored per cell.
    ``described``: the description (and ``bounds``) of metrics outside the registry, such
    as a judge's ``judge.<name>``.
    """
    described = described or {}
    cells: dict[str, dict[str, Any]] = {}
    for item in items:
        cell = cells.setdefault(item["cell"], {"cell": item["cell"], "variant": item["variant"],
                                               "grid": item["grid"], "inputs": {}})
        cell["inputs"].setdefault(item["input_id"], []).append(item["key"])
    names = sorted({m for s in sample_scores.values() for m in s}
                   | {m for s in set_scores.values() for m in s}
                   | {m for s in (pooled or {}).values() for m in s})
    out_cells = []
    for cell in cells.values():
        metrics: dict[str, dict[str, Any]] = {}
        n_samples = sum(len(keys) for keys in cell["inputs"].values())
        for name in names:
            per_input: dict[str, float] = {}
            samples: list[list[float]] = []
            spec = METRICS.get(name)
            for inp, keys in cell["inputs"].items():
                have = [k for k in keys if name in sample_scores.get(k, {})]
                vals = [sample_scores[k][name] for k in have]
                if vals:
                    weights = _weights(spec, have, sample_scores)
                    per_input[inp] = pool_values(spec, vals, weights)
                    samples.append(vals)
                elif name in set_scores.get((cell["cell"], inp), {}):
                    per_input[inp] = set_scores[(cell["cell"], inp)][name]
            if per_input:
                # samples back a one-input interval only when the input's value is their mean
                by_mean = spec is None or spec.pool == "mean" or spec.weight is None
                set_size = max(len(keys) for keys in cell["inputs"].values())
                bounds = value_bounds(spec, set_size) if spec else tuple(
                    described.get(name, {}).get("bounds") or (None, None))
                iv = cell_interval(list(per_input.values()),
                                   (samples or None) if by_mean else None, seed=seed,
                                   n_samples=n_samples, bounds=bounds)  # type: ignore[arg-type]
                metrics[name] = {"mean": iv.mean, "lo": iv.lo, "hi": iv.hi, "n": iv.n_samples,
                                 "n_inputs": iv.n_inputs, "method": iv.method,
                                 "inputs": per_input}
            elif name in (pooled or {}).get(cell["cell"], {}):
                v = (pooled or {})[cell["cell"]][name]
                metrics[name] = {"mean": v, "lo": None, "hi": None, "n": n_samples,
                                 "n_inputs": len(cell["inputs"]), "method": POOLED,
                                 "inputs": {}}
        out_cells.append({"cell": cell["cell"], "variant": cell["variant"],
                          "grid": cell["grid"], "n": n_samples,
                          "n_inputs": len(cell["inputs"]), "metrics": metrics})
    x, y = _axes(names, plot or {})
    frontier = pareto_frontier(out_cells, x, y)
    return {
        "schema_version": SCHEMA_VERSION,
        "run": run,
        "statistics": {
            "unit": "input: a per-sample metric is pooled over an input's samples (mean; "
                    "perplexity token-weighted), a "
                    "set-level metric is computed over them; a cell's value is the mean "
                    "over its inputs",
            "interval": f"{1 - ALPHA:.0%} interval over inputs: Student t for 2-7 inputs, "
                        "studentized bootstrap for 8 or more; see each metric's method",
        },
        "metrics": {n: described.get(n) or _describe(n) for n in names},
        "cells": out_cells,
        "pareto": {"x": x, "y": y, "cells": frontier,
                   "within_noise": within_noise_of_frontier(out_cells, x, y, frontier)},
    }


def _weights(spec: MetricSpec | None, keys: Sequence[str],
             sample_scores: dict[str, dict[str, float]]) -> list[float] | None:
    """The per-sample weights ``spec`` pools with, when every sample has them."""
    if spec is None or spec.weight is None:
        return None
    w = [sample_scores[k].get(spec.weight) for k in keys]
    return None if any(v is None for v in w) else [float(v) for v in w if v is not None]


def summary_from_inputs(values: dict[str, dict[str, dict[str, float]]], run_id: str = "",
                        samples_per_input: int = 1, intervals: bool = True
                        ) -> dict[str, Any]:
    """Return a summary built from per-input values ``{cell: {metric: {input id: value}}}``
    (e.g. scores computed elsewhere, or simulated), as ``summarize`` would lay it out:
    each metric's mean over inputs and, with ``intervals``, its ``cell_interval``.
    Comparisons (``harness.comparisons``) and the gate (``harness.checks``) accept it."""
    cells = []
    names: set[str] = set()
    for cid, metrics in values.items():
        out: dict[str, dict[str, Any]] = {}
        for name, per_input in metrics.items():
            names.add(name)
            k = len(per_input)
            spec = METRICS.get(name)
            iv = (cell_interval(list(per_input.values()), n_samples=k * samples_per_input,
                                bounds=value_bounds(spec, samples_per_input))
                  if intervals else None)
            out[name] = {"mean": sum(per_input.values()) / k if k else 0.0,
                         "lo": iv.lo if iv else None, "hi": iv.hi if iv else None,
                         "n": k * samples_per_input, "n_inputs": k,
                         "method": iv.method if iv else "no interval computed",
                         "inputs": dict(per_input)}
        k = max((m["n_inputs"] for m in out.values()), default=0)
        cells.append({"cell": cid, "variant": cid.split("|")[0],
                      "grid": dict(p.split("=", 1) for p in cid.split("|", 1)[1].split(",")
                                   if "=" in p) if "|" in cid else {},
                      "n": k * samples_per_input, "n_inputs": k, "metrics": out})
    return {"schema_version": SCHEMA_VERSION, "run": {"id": run_id},
            "metrics": {n: _describe(n) for n in sorted(names)}, "cells": cells,
            "pareto": {"x": None, "y": None, "cells": [], "within_noise": []}}


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
    if metric.startswith(JUDGED):
        return True
    spec = METRICS.get(metric)
    return direction(spec.higher_is if spec else None)


def direction(higher_is: str | None) -> bool | None:
    """What a metric's ``higher_is`` says: True when higher is better (more diverse, more
    coherent, better), False when lower is ("worse"), None when it has no direction."""
    return None if higher_is is None else higher_is in _UP


def pareto_frontier(cells: Sequence[dict[str, Any]], x: str | None, y: str | None) -> list[str]:
    """Return the ids of cells no other cell beats on both ``x`` and ``y``.

    Each axis is oriented by its metric's direction (e.g. more diverse is better on x,
    lower perplexity is better on y). A cell dominates another if it is at least as good on
    both and strictly better on one. Mostly degenerate cells are left out.
    """
    if not x or not y:
        return []
    sx = 1.0 if better_when_higher(x) is not False else -1.0
    sy = 1.0 if better_when_higher(y) is not False else -1.0
    points = [(c["cell"], sx * c["metrics"][x]["mean"], sy * c["metrics"][y]["mean"])
              for c in cells if x in c["metrics"] and y in c["metrics"]
              and not mostly_degenerate(c)]
    frontier = []
    for cid, px, py in points:
        dominated = any(qx >= px and qy >= py and (qx > px or qy > py)
                        for other, qx, qy in points if other != cid)
        if not dominated:
            frontier.append(cid)
    return frontier


DEGENERATE_LIMIT = 0.5


def mostly_degenerate(cell: dict[str, Any]) -> bool:
    """True when at least half of a cell's samples are degenerate (empty, symbols only,
    under 3 words): such a cell never counts as best or on the Pareto frontier, however
    diverse its nothing looks."""
    m = cell["metrics"].get("degenerate")
    return m is not None and m["mean"] >= DEGENERATE_LIMIT


def _oriented(c: dict[str, Any], metric: str, sign: float) -> tuple[float, float, float]:
    m = c["metrics"][metric]
    lo = m["lo"] if m.get("lo") is not None else m["mean"]
    hi = m["hi"] if m.get("hi") is not None else m["mean"]
    a, b = sign * lo, sign * hi
    return sign * m["mean"], min(a, b), max(a, b)


def clearly_better(a: tuple[float, float, float], b: tuple[float, float, float]) -> bool:
    """True when oriented interval ``a`` lies wholly above ``b`` (no overlap)."""
    return a[1] > b[2]


def within_noise_of_frontier(cells: Sequence[dict[str, Any]], x: str | None, y: str | None,
                             frontier: Sequence[str]) -> list[str]:
    """Return the cells off the Pareto frontier that no cell dominates *clearly*.

    A cell q clearly dominates p when q is at least as good on both axes by means and its
    95% interval lies wholly on the better side of p's on at least one axis. Cells
    dominated only by means are within noise of the frontier: more inputs could put them
    on it. A cell without an interval is compared by its mean alone.
    """
    if not x or not y:
        return []
    sx = 1.0 if better_when_higher(x) is not False else -1.0
    sy = 1.0 if better_when_higher(y) is not False else -1.0
    pts = {c["cell"]: (_oriented(c, x, sx), _oriented(c, y, sy)) for c in cells
           if x in c["metrics"] and y in c["metrics"] and not mostly_degenerate(c)}
    out = []
    for cid, (px, py) in pts.items():
        if cid in frontier:
            continue
        clear = any(qx[0] >= px[0] and qy[0] >= py[0]
                    and (clearly_better(qx, px) or clearly_better(qy, py))
                    for other, (qx, qy) in pts.items() if other != cid)
        if not clear:
            out.append(cid)
    return out


def best_cells(entries: dict[str, dict[str, Any]], metric: str,
               excluded: set[str] | frozenset[str] = frozenset()) -> tuple[set[str], bool]:
    """Return ``(best, clear)`` among ``entries`` ({label: cell metric dict}) for
    ``metric``: the label with the best mean and every label whose 95% interval overlaps
    it, and whether the best is clear (a single label). Empty when the metric has no
    direction or all means are equal. ``excluded`` labels (e.g. mostly degenerate cells)
    never count."""
    up = better_when_higher(metric)
    vals = {k: m for k, m in entries.items()
            if m and math.isfinite(m["mean"]) and k not in excluded}
    if up is None or len({m["mean"] for m in vals.values()}) < 2:
        return set(), False
    sign = 1.0 if up else -1.0
    oriented = {k: _oriented({"metrics": {metric: m}}, metric, sign) for k, m in vals.items()}
    top = max(oriented, key=lambda k: oriented[k][0])
    tied = {k for k, o in oriented.items() if k == top or not clearly_better(oriented[top], o)}
    return tied, len(tied) == 1
