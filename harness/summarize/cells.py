"""From scores to conclusions: cell summaries with intervals over inputs, the
creativity–coherence Pareto frontier, best-of-column with ties.

A *summary* is a plain JSON-able dict (``SCHEMA_VERSION``); it is what reports render,
what ``harness baseline`` saves and what ``harness check`` compares against. Every cell
metric carries its per-input values (``inputs``), so comparisons and the gate can pair by
input from a summary alone. Unit of analysis and methods: ``harness.stats.intervals`` and
docs/statistics.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.metrics import METRICS, MetricSpec, pool_values, value_bounds
from harness.records import grid_text
from harness.stats.intervals import ALPHA, cell_interval
from harness.summarize.pareto import best_cells, mostly_degenerate, pareto_section

SCHEMA_VERSION = 2
DEFAULT_X = ("embedding_diversity", "distinct_2", "distinct_1")
DEFAULT_Y = ("perplexity", "relevance")
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
    per-sample metric), its 95% interval (``harness.stats.intervals.cell_interval``; ``lo``/``hi``
    None when there is none, ``method`` says why), the sample and input counts, and
    ``{input id: value}``. ``pooled``: set-level values of old runs scored per cell.
    ``described``: the description (and ``bounds``) of metrics outside the registry, such
    as a judge's ``judge.<name>``.
    """
    described = described or {}
    cells: dict[str, dict[str, Any]] = {}
    for item in items:
        cell = cells.setdefault(item["cell"], {"cell": item["cell"], "variant": item["variant"],
                                               "grid": item["grid"], "inputs": {},
                                               "truncated": None})
        cell["inputs"].setdefault(item["input_id"], []).append(item["key"])
        if item.get("finish_reason") is not None:  # recorded: count the samples cut short
            cell["truncated"] = (cell["truncated"] or 0) + (item["finish_reason"] == "length")
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
                          "n_inputs": len(cell["inputs"]), "truncated": cell["truncated"],
                          "metrics": metrics})
    x, y = _axes(names, plot or {})
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
        "pareto": pareto_section(out_cells, x, y),
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
    Comparisons (``harness.stats.comparisons``) and the gate (``harness.stats.gate``) accept it."""
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
            "pareto": pareto_section(cells, None, None)}


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


def grid_label(grid: dict[str, Any]) -> str:
    """Return ``k=v, k=v`` for a grid point (``default`` when it is empty), each value as
    the cell ids write it (``temperature=1``, not ``1.0``)."""
    return grid_text(grid, ", ") or "default"


def best_by_grid(summary: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """For every metric and grid point (``grid_label``): ``{"cells": [variant, ...],
    "clear": bool}``, the variants ``best_cells`` finds best in it (mostly degenerate cells
    and cells the frontier excluded never count)."""
    excluded = set((summary.get("pareto") or {}).get("excluded") or {})
    by_grid: dict[str, dict[str, dict[str, Any]]] = {}
    for c in summary["cells"]:
        by_grid.setdefault(grid_label(c.get("grid") or {}), {})[c["variant"]] = c
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for m in summary.get("metrics", {}):
        for g, cells in by_grid.items():
            top, clear = best_cells({v: c["metrics"].get(m) for v, c in cells.items()}, m,
                                    {v for v, c in cells.items()
                                     if mostly_degenerate(c) or c["cell"] in excluded})
            if top:
                out.setdefault(m, {})[g] = {"cells": sorted(top), "clear": clear}
    return out
