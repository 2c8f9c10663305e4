"""Paired, corrected comparisons: between two runs of a suite, and within one run
(variant vs variant at each grid point, or grid point vs grid point for each variant).

Each row compares two cells on one metric over the inputs both have, paired by input id
(``harness.stats.intervals.paired_test``): B − A with an interval and a p-value. The p-values of all
rows of one comparison are adjusted together with Benjamini–Hochberg (a comparison is a
screen for what changed: it controls the expected share of false discoveries among the
rows it marks, and stays usable with hundreds of rows); ``significant`` is
``p_adj < alpha``. The intervals are FCR-adjusted to match (Benjamini & Yekutieli 2005):
with R of m tested rows significant, every interval is at level ``1 - alpha·max(R, 1)/m``,
so an interval excludes 0 exactly when its row is significant; they are clipped to the
differences the metric can show. Rows are not tested with fewer than ``MIN_PAIRS`` shared
inputs, or for a set metric whose set size (samples per input) differs between the sides:
set metrics move with set size alone. By default the rows leave out metrics that are the
same everywhere (``degenerate`` 0 vs 0) and bookkeeping metrics (``scored_tokens``, the
weights of another metric); ``show_all`` keeps them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.errors import UnknownName
from harness.metrics import METRICS, value_bounds
from harness.metrics.direction import better_when_higher
from harness.records import grid_text
from harness.stats.intervals import ALPHA, MIN_PAIRS, adjust, paired_test

CORRECTION = "bh"
# metrics that only serve another metric (its pooling weights): not a result to compare
BOOKKEEPING = frozenset(s.weight for s in METRICS.values() if s.weight)


def compare_runs(a: dict[str, Any], b: dict[str, Any], alpha: float = ALPHA,
                 metrics: Sequence[str] | None = None, show_all: bool = False
                 ) -> dict[str, Any]:
    """Compare two summaries cell by cell (same cell ids), paired by input."""
    cells_a = {c["cell"]: c for c in a["cells"]}
    cells_b = {c["cell"]: c for c in b["cells"]}
    pairs = [(cid, cells_a[cid], cells_b[cid]) for cid in cells_a if cid in cells_b]
    result = _compare_pairs(pairs, alpha, metrics, show_all)
    result.update(only_a=sorted(set(cells_a) - set(cells_b)),
                  only_b=sorted(set(cells_b) - set(cells_a)), kind="runs",
                  a=a["run"].get("id"), b=b["run"].get("id"))
    return result


def compare_within(summary: dict[str, Any], by: str = "variant", reference: str | None = None,
                   metrics: Sequence[str] | None = None, alpha: float = ALPHA,
                   show_all: bool = False) -> dict[str, Any]:
    """Compare cells of one run, paired by input.

    ``by="variant"``: at each grid point, every variant against ``reference`` (default: the
    first variant). ``by="grid"``: for each variant, every grid point against
    ``reference`` (default: the first grid point, as its cell-id label, e.g.
    ``temperature=0.3``). ``metrics`` limits the rows (default: every metric but constant
    and bookkeeping ones, which ``show_all`` keeps).
    """
    if by not in ("variant", "grid"):
        raise ValueError(f"by must be 'variant' or 'grid', not {by!r}")
    cells = summary["cells"]

    def grid_label(c: dict[str, Any]) -> str:
        return grid_text(c.get("grid") or {})

    key = (lambda c: c["variant"]) if by == "variant" else grid_label
    other = grid_label if by == "variant" else (lambda c: c["variant"])
    levels = list(dict.fromkeys(key(c) for c in cells))
    ref = reference if reference is not None else (levels[0] if levels else None)
    if ref is not None and ref not in levels:
        raise UnknownName(f"no {by} {ref!r} in the run; it has: {', '.join(levels)}")
    by_pos = {(key(c), other(c)): c for c in cells}
    pairs = []
    for c in cells:
        if key(c) == ref:
            continue
        base = by_pos.get((ref, other(c)))
        if base is not None:
            where = f" · {other(c)}" if other(c) else ""
            pairs.append((f"{key(c)} vs {ref}{where}", base, c))
    result = _compare_pairs(pairs, alpha, metrics, show_all)
    result.update(kind=by, reference=ref, only_a=[], only_b=[])
    return result


def set_size(m: dict[str, Any]) -> float:
    """Samples per input behind a cell metric (the set size of a set metric)."""
    return m.get("n", 0) / max(1, m.get("n_inputs") or 1)


def inputs_phrase(n: int, what: str = "input") -> str:
    """``1 input``, ``2 inputs``."""
    return f"{n} {what}{'' if n == 1 else 's'}"


def _constant(pairs: Sequence[tuple[str, dict[str, Any], dict[str, Any]]], metric: str
              ) -> bool:
    """True when every value of ``metric`` on both sides of every pair is one number."""
    seen: set[float] = set()
    for _, ca, cb in pairs:
        for cell in (ca, cb):
            m = cell["metrics"].get(metric)
            if m is not None:
                seen.update((m.get("inputs") or {}).values() or [m["mean"]])
                if len(seen) > 1:
                    return False
    return True


def _compare_pairs(pairs: Sequence[tuple[str, dict[str, Any], dict[str, Any]]], alpha: float,
                   metrics: Sequence[str] | None = None, show_all: bool = False
                   ) -> dict[str, Any]:
    names = sorted({n for _, ca, cb in pairs for n in set(ca["metrics"]) & set(cb["metrics"])})
    if metrics is not None:
        names = [n for n in names if n in metrics]
    hidden = [] if show_all else [n for n in names
                                  if n in BOOKKEEPING or _constant(pairs, n)]
    rows = []
    inputs: list[tuple[dict[str, float], dict[str, float]]] = []
    for label, ca, cb in pairs:
        ma, mb = ca["metrics"], cb["metrics"]
        for metric in names:
            if metric in hidden or metric not in ma or metric not in mb:
                continue
            ia, ib = ma[metric].get("inputs") or {}, mb[metric].get("inputs") or {}
            sizes = (set_size(ma[metric]), set_size(mb[metric]))
            spec = METRICS.get(metric)
            resized = spec is not None and spec.kind != "sample" and sizes[0] != sizes[1]
            t = paired_test(ia, ib, alpha=alpha)
            if resized:
                note = (f"set sizes differ ({sizes[0]:g} vs {sizes[1]:g} samples per input): "
                        "a set metric moves with set size, so it is not tested")
            elif t.p is None:
                note = (f"{inputs_phrase(t.n_pairs, 'shared input')}: a test needs "
                        f"{MIN_PAIRS}" if ia and ib else "no per-input values")
            else:
                note = ""
            rows.append({"cell": label, "a_cell": ca["cell"], "b_cell": cb["cell"],
                         "metric": metric, "a": ma[metric]["mean"], "b": mb[metric]["mean"],
                         "diff": t.diff if t.n_pairs else mb[metric]["mean"] - ma[metric]["mean"],
                         "lo": None, "hi": None, "p": None if resized else t.p,
                         "n_pairs": t.n_pairs, "note": note,
                         "set_sizes": list(sizes)})
            inputs.append((ia, ib))
    tested = sum(r["p"] is not None for r in rows)
    for row, p_adj in zip(rows, adjust([r["p"] for r in rows], CORRECTION), strict=True):
        row["p_adj"] = p_adj
        row["significant"] = p_adj is not None and p_adj < alpha
        up = better_when_higher(row["metric"])
        row["better"] = (None if not row["significant"] or up is None or row["diff"] == 0
                         else ("B" if (row["diff"] > 0) == up else "A"))
    significant = sum(r["significant"] for r in rows)
    # FCR-adjusted intervals (Benjamini & Yekutieli 2005): level 1 - alpha * R / m, R the
    # rows BH marks (at least 1); row i is marked iff p_i <= alpha R / m, so its interval
    # excludes 0 exactly then
    level = alpha * max(significant, 1) / max(tested, 1)
    for row, (ia, ib) in zip(rows, inputs, strict=True):
        if row["p"] is None:
            continue
        t = paired_test(ia, ib, alpha=level)
        lo, hi = _diff_bounds(row["metric"], row["set_sizes"])
        row["lo"], row["hi"] = _clip(t.lo, lo, hi), _clip(t.hi, lo, hi)
    return {"rows": rows, "alpha": alpha, "correction": CORRECTION, "tested": tested,
            "significant": significant, "untested": len(rows) - tested,
            "hidden": hidden, "ci_level": 1 - level,
            "method": "paired t-test over shared inputs; Benjamini–Hochberg across the "
                      f"{tested} tested rows; intervals at the FCR-adjusted level "
                      f"{1 - level:.4g} (Benjamini–Yekutieli), so an interval excludes 0 "
                      "exactly when its row is significant"}


def _diff_bounds(metric: str, sizes: Sequence[float]) -> tuple[float | None, float | None]:
    """The range of B − A for a metric bounded on both sides: ±(hi − lo)."""
    lo, hi = value_bounds(METRICS.get(metric), max(sizes))
    if lo is None or hi is None:
        return None, None
    return lo - hi, hi - lo


def _clip(v: float | None, lo: float | None, hi: float | None) -> float | None:
    if v is None:
        return None
    if lo is not None:
        v = max(v, lo)
    if hi is not None:
        v = min(v, hi)
    return v
