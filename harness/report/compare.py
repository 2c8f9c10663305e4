"""Markdown rendering of a run-vs-run comparison."""

from __future__ import annotations

from typing import Any


def render_compare_markdown(result: dict[str, Any], a: dict[str, Any], b: dict[str, Any]) -> str:
    """Return a Markdown table of B − A per cell and metric, significant rows marked."""
    lines = [f"# Comparison: `{b['run']['id']}` (B) vs `{a['run']['id']}` (A)", "",
             "| cell | metric | A | B | B − A | 95% CI | |", "|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        ci = "–" if r["lo"] is None else f"[{r['lo']:.3g}, {r['hi']:.3g}]"
        cell = str(r["cell"]).replace("|", "\\|")
        lines.append(f"| {cell} | {r['metric']} | {r['a']:.4g} | {r['b']:.4g} | "
                     f"{r['diff']:+.4g} | {ci} | {'**significant**' if r['significant'] else ''} |")
    for side, cells in (("A", result["only_a"]), ("B", result["only_b"])):
        if cells:
            lines += ["", f"Only in {side}: " + ", ".join(f"`{c}`" for c in cells)]
    return "\n".join(lines) + "\n"
