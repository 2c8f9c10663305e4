"""Paired, corrected comparisons: between two runs of a suite, and within one run
(variant vs variant at each grid point, or grid point vs grid point for each variant).

Each row compares two cells on one metric over the inputs both have, paired by input id
(``harness.stats.paired_test``): B − A with its 95% interval and a p-value. The p-values
of all rows of one comparison are adjusted together with Benjamini–Hochberg (a comparison
is a screen for what changed: it controls the expected share of false discoveries among
the rows it marks, and stays usable with hundreds of rows); ``significant`` is
``p_adj < alpha``. Rows with fewer than ``MIN_PAIRS`` shared inputs are never significant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.analysis import better_when_higher
from harness.errors import UnknownName
from harness.metrics import METRICS
from harness.stats import ALPHA, MIN_PAIRS, adjust, paired_test

CORRECTION = "bh"


def compare_runs(a: dict[str, Any], b: dict[str, Any], alpha: float = ALPHA
                 ) -> dict[str, Any]:
    """Compare two summaries cell by cell (same cell ids), paired by input."""
    cells_a = {c["cell"]: c for c in a["cells"]}
    cells_b = {c["cell"]: c for c in b["cells"]}
    pairs = [(cid, cells_a[cid], cells_b[cid]) for cid in cells_a if cid in cells_b]
    result = _compare_pairs(pairs, alpha)
    result.update(only_a=sorted(set(cells_a) - set(cells_b)),
                  only_b=sorted(set(cells_b) - set(cells_a)), kind="runs",
                  a=a["run"].get("id"), b=b["run"].get("id"))
    return result


def compare_within(summary: dict[str, Any], by: str = "variant", reference: str | None = None,
                   metrics: Sequence[str] | None = None, alpha: float = ALPHA
                   ) -> dict[str, Any]:
    """Compare cells of one run, paired by input.

    ``by="variant"``: at each grid point, every variant against ``reference`` (default: the
    first variant). ``by="grid"``: for each variant, every grid point against
    ``reference`` (default: the first grid point, as its cell-id label, e.g.
    ``temperature=0.3``). ``metrics`` limits the rows (default: every metric).
    """
    if by not in ("variant", "grid"):
        raise ValueError(f"by must be 'variant' or 'grid', not {by!r}")
    cells = summary["cells"]

    def grid_label(c: dict[str, Any]) -> str:
        return c["cell"].split("|", 1)[1] if "|" in c["cell"] else ""

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
    result = _compare_pairs(pairs, alpha, metrics)
    result.update(kind=by, reference=ref, only_a=[], only_b=[])
    return result


def _set_size(m: dict[str, Any]) -> float:
    return m.get("n", 0) / max(1, m.get("n_inputs") or 1)


def _compare_pairs(pairs: Sequence[tuple[str, dict[str, Any], dict[str, Any]]], alpha: float,
                   metrics: Sequence[str] | None = None) -> dict[str, Any]:
    rows = []
    for label, ca, cb in pairs:
        ma, mb = ca["metrics"], cb["metrics"]
        for metric in sorted(set(ma) & set(mb)):
            if metrics is not None and metric not in metrics:
                continue
            ia, ib = ma[metric].get("inputs") or {}, mb[metric].get("inputs") or {}
            t = paired_test(ia, ib, alpha=alpha)
            sizes = (_set_size(ma[metric]), _set_size(mb[metric]))
            rows.append({"cell": label, "a_cell": ca["cell"], "b_cell": cb["cell"],
                         "metric": metric, "a": ma[metric]["mean"], "b": mb[metric]["mean"],
                         "diff": t.diff if t.n_pairs else mb[metric]["mean"] - ma[metric]["mean"],
                         "lo": t.lo, "hi": t.hi, "p": t.p, "n_pairs": t.n_pairs,
                         "note": "" if t.p is not None else
                         (f"{t.n_pairs} shared input(s): a test needs {MIN_PAIRS}" if
                          ia and ib else "no per-input values")})
            spec = METRICS.get(metric)
            if spec is not None and spec.kind != "sample" and sizes[0] != sizes[1]:
                # set metrics move with the set size alone (docs/metrics.md)
                rows[-1]["note"] = (f"set sizes differ ({sizes[0]:g} vs {sizes[1]:g} samples "
                                    "per input): not comparable; " + rows[-1]["note"]).rstrip("; ")
    for row, p_adj in zip(rows, adjust([r["p"] for r in rows], CORRECTION), strict=True):
        row["p_adj"] = p_adj
        row["significant"] = p_adj is not None and p_adj < alpha
        up = better_when_higher(row["metric"])
        row["better"] = (None if not row["significant"] or up is None or row["diff"] == 0
                         else ("B" if (row["diff"] > 0) == up else "A"))
    return {"rows": rows, "alpha": alpha, "correction": CORRECTION,
            "tested": sum(r["p"] is not None for r in rows),
            "method": "paired t-test over shared inputs; Benjamini–Hochberg across the "
                      f"{sum(r['p'] is not None for r in rows)} tested rows"}
