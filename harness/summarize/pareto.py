"""The creativity–coherence Pareto frontier of a run's cells, the cells excluded from it
(mostly degenerate, word salad), the cells within noise of it, and best-of-column with
ties. Unit of analysis and methods: docs/statistics.md."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from harness.metrics.direction import JUDGED, better_when_higher
from harness.metrics.registry import METRICS

# What each axis of the creativity–coherence plot may be. Creativity: a metric whose
# higher values are more diverse, or one of these homogeneity metrics (lower = more
# diverse). Coherence: a metric whose higher values are more coherent, a judge's or human
# raters' score (the suite names the criterion), or perplexity (lower = more fluent).
LESS_IS_DIVERSE = frozenset({"self_bleu", "homogenization_rougel", "compression_ratio",
                             "cross_input_similarity"})
LESS_IS_COHERENT = frozenset({"perplexity"})


def axes_note(x: str, y: str) -> str | None:
    """Why ``x`` and ``y`` are not a creativity (x) – coherence (y) pair, or None when they
    are one; a frontier over another pair (e.g. two coherence metrics, or a pass rate as
    "coherence") would name a trade-off the data do not measure."""
    def role(m: str) -> str | None:
        spec = METRICS.get(m)
        if m.startswith(JUDGED) or m in LESS_IS_COHERENT or (spec and spec.higher_is ==
                                                              "coherent"):
            return "coherence"
        if m in LESS_IS_DIVERSE or (spec and spec.higher_is == "diverse"):
            return "creativity"
        return None

    wrong = [f"{axis} = {m} is " + (f"a {r} metric" if r else "neither a creativity nor a "
                                    "coherence metric")
             for axis, m, want in (("x", x, "creativity"), ("y", y, "coherence"))
             if (r := role(m)) != want]
    if not wrong:
        return None
    return ("No creativity–coherence frontier: the plot's " + " and ".join(wrong)
            + "; name a diversity metric (e.g. distinct_2, embedding_diversity) as x and a "
            "coherence metric (perplexity, relevance, a judge) as y in `plot:` for one.")


def pareto_section(cells: Sequence[dict[str, Any]], x: str | None, y: str | None
                   ) -> dict[str, Any]:
    """Return the summary's ``pareto``: the plot axes ``x``/``y``; the ``cells`` on the
    creativity–coherence frontier and those ``within_noise`` of it, both among the cells
    not ``excluded`` ({cell: why}: mostly degenerate, or word salad by perplexity); a
    ``note`` instead of a frontier when the axes are not a creativity–coherence pair; and
    ``undecided`` when the run cannot separate most cells (``undecided_cells``)."""
    out: dict[str, Any] = {"x": x, "y": y, "cells": [], "within_noise": [], "excluded": {},
                           "note": None, "undecided": None}
    out["excluded"] = excluded = excluded_cells(cells)  # never best in a column either
    if not x or not y:
        return out
    out["note"] = axes_note(x, y)
    if out["note"]:
        return out
    frontier = pareto_frontier(cells, x, y, excluded)
    noise = within_noise_of_frontier(cells, x, y, frontier, excluded)
    out.update(cells=frontier, within_noise=noise,
               undecided=undecided_cells(cells, x, y, frontier, noise, excluded))
    return out


def pareto_frontier(cells: Sequence[dict[str, Any]], x: str | None, y: str | None,
                    excluded: dict[str, str] | None = None) -> list[str]:
    """Return the ids of cells no other cell beats on both ``x`` and ``y``.

    Each axis is oriented by its metric's direction (e.g. more diverse is better on x,
    lower perplexity is better on y). A cell dominates another if it is at least as good on
    both and strictly better on one. Cells in ``excluded`` (default: ``excluded_cells``)
    take no part: a cell of empty or garbled replies is not a trade-off, however diverse
    its nothing looks.
    """
    if not x or not y:
        return []
    excluded = excluded_cells(cells) if excluded is None else excluded
    sx = 1.0 if better_when_higher(x) is not False else -1.0
    sy = 1.0 if better_when_higher(y) is not False else -1.0
    points = [(c["cell"], sx * c["metrics"][x]["mean"], sy * c["metrics"][y]["mean"])
              for c in cells if x in c["metrics"] and y in c["metrics"]
              and c["cell"] not in excluded]
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
    under 3 words, or word salad: ``harness.metrics.length.degenerate``): such a cell
    never counts as best or on the Pareto frontier, however diverse its nothing looks."""
    m = cell["metrics"].get("degenerate")
    return m is not None and m["mean"] >= DEGENERATE_LIMIT


# A cell whose perplexity is this many times the median cell's of its run, and at least
# SALAD_PERPLEXITY, reads as word salad to its own model (docs/metrics.md, "degenerate").
SALAD_FACTOR = 10.0
SALAD_PERPLEXITY = 100.0


def excluded_cells(cells: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Return {cell id: why} for the cells that never count as best or on the Pareto
    frontier: at least half of their samples degenerate (``mostly_degenerate``), or a
    perplexity at least ``SALAD_FACTOR`` times the median cell's of the run and at least
    ``SALAD_PERPLEXITY``: text the scoring model finds that improbable is word salad
    (nonsense words, random capitals), however diverse it is."""
    ppl = sorted(c["metrics"]["perplexity"]["mean"] for c in cells
                 if "perplexity" in c["metrics"])
    median = (ppl[(len(ppl) - 1) // 2] + ppl[len(ppl) // 2]) / 2 if ppl else None
    out: dict[str, str] = {}
    for c in cells:
        m = c["metrics"].get("perplexity")
        if mostly_degenerate(c):
            out[c["cell"]] = (f"{c['metrics']['degenerate']['mean']:.0%} of its samples are "
                              "degenerate (empty, under 3 words or word salad)")
        elif (m and median and m["mean"] >= SALAD_PERPLEXITY
              and m["mean"] >= SALAD_FACTOR * median):
            out[c["cell"]] = (f"word salad: perplexity {m['mean']:.0f}, {m['mean'] / median:.0f}"
                              f" times the run's median cell's, {median:.3g}")
    return out


def undecided_cells(cells: Sequence[dict[str, Any]], x: str, y: str, frontier: Sequence[str],
                    noise: Sequence[str], excluded: dict[str, str]) -> dict[str, Any] | None:
    """Return, when most of the eligible cells (three or more, not ``excluded``) are on the
    frontier or within noise of it, how many that is (``close`` of ``of``), the inputs
    the cells have (``n_inputs``) and ``inputs_needed``: the median over the cells within
    noise of the inputs a paired t-test (``harness.stats.intervals.inputs_needed``, 80% power) needs
    to show the cell that dominates it by means better on one axis, at the difference and
    spread observed (None when no number of inputs would); else None."""
    from harness.stats.intervals import inputs_needed, paired_test

    by_id = {c["cell"]: c for c in cells if x in c["metrics"] and y in c["metrics"]
             and c["cell"] not in excluded}
    close = len(frontier) + len(noise)
    if len(by_id) < 3 or close * 2 <= len(by_id):
        return None
    signs = {m: 1.0 if better_when_higher(m) is not False else -1.0 for m in (x, y)}

    def better(q: dict[str, Any], p: dict[str, Any]) -> bool:
        return all(signs[m] * q["metrics"][m]["mean"] >= signs[m] * p["metrics"][m]["mean"]
                   for m in (x, y))

    needs = []
    for pid in noise:
        p = by_id[pid]
        best: int | None = None
        for q in by_id.values():
            if q is p or not better(q, p):
                continue
            for m in (x, y):
                t = paired_test(p["metrics"][m].get("inputs") or {},
                                q["metrics"][m].get("inputs") or {})
                n = inputs_needed(t.sd or 0.0, signs[m] * t.diff) if t.sd is not None else None
                if n is not None and (best is None or n < best):
                    best = n
        if best is not None:
            needs.append(best)
    k = max((c.get("n_inputs") or 0 for c in by_id.values()), default=0)
    return {"close": close, "of": len(by_id), "n_inputs": k,
            "inputs_needed": sorted(needs)[(len(needs) - 1) // 2] if needs else None}


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
                             frontier: Sequence[str],
                             excluded: dict[str, str] | None = None) -> list[str]:
    """Return the cells off the Pareto frontier that no cell dominates *clearly*.

    A cell q clearly dominates p when q is at least as good on both axes by means and its
    95% interval lies wholly on the better side of p's on at least one axis. Cells
    dominated only by means are within noise of the frontier: more inputs could put them
    on it. A cell without an interval is compared by its mean alone. ``excluded`` cells
    (default: ``excluded_cells``) take no part.
    """
    if not x or not y:
        return []
    excluded = excluded_cells(cells) if excluded is None else excluded
    sx = 1.0 if better_when_higher(x) is not False else -1.0
    sy = 1.0 if better_when_higher(y) is not False else -1.0
    pts = {c["cell"]: (_oriented(c, x, sx), _oriented(c, y, sy)) for c in cells
           if x in c["metrics"] and y in c["metrics"] and c["cell"] not in excluded}
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
