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


def render_compare_html(result: dict[str, Any], a: dict[str, Any], b: dict[str, Any]) -> str:
    """Return a self-contained HTML page of the comparison (every string escaped)."""
    from html import escape

    def num(v: float | None, fmt: str = ".4g") -> str:
        return "–" if v is None else format(v, fmt)

    rows = []
    for r in result["rows"]:
        ci = "–" if r["lo"] is None else f"[{r['lo']:.3g}, {r['hi']:.3g}]"
        cls = ' class="sig"' if r["significant"] else ""
        rows.append(f"<tr{cls}><td>{escape(str(r['cell']))}</td><td>{escape(r['metric'])}</td>"
                    f"<td>{num(r['a'])}</td><td>{num(r['b'])}</td>"
                    f"<td>{num(r['diff'], '+.4g')}</td><td>{ci}</td>"
                    f"<td>{'significant' if r['significant'] else ''}</td></tr>")
    only = "".join(f"<p>Only in {side}: {escape(', '.join(cells))}</p>"
                   for side, cells in (("A", result["only_a"]), ("B", result["only_b"]))
                   if cells)
    title = f"{escape(str(b['run']['id']))} (B) vs {escape(str(a['run']['id']))} (A)"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Comparison {title}</title>
<style>body{{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
td:first-child,td:nth-child(2){{text-align:left}}tr.sig{{background:#fff3cd}}</style></head>
<body><h1>Comparison: {title}</h1>
<p>B − A per cell and metric; 95% bootstrap interval of the difference; highlighted rows
exclude zero.</p>
<table><tr><th>cell</th><th>metric</th><th>A</th><th>B</th><th>B − A</th><th>95% CI</th>
<th></th></tr>{''.join(rows)}</table>{only}</body></html>
"""
