"""Markdown and HTML rendering of a paired comparison (``harness.stats.comparisons``)."""

from __future__ import annotations

from html import escape
from typing import Any

from harness.jsonout import dumps
from harness.report.format import ci, md_escape, p_value


def verdict(r: dict[str, Any]) -> str:
    """``B better`` / ``A better`` / ``differs`` for a significant row, else the row's note."""
    if r["significant"]:
        return f"{r['better']} better" if r["better"] else "differs"
    return r.get("note") or ""


def explain(result: dict[str, Any]) -> str:
    """One sentence saying what the rows are computed over and how they are corrected."""
    return (f"B − A per row over the inputs both sides share (n = pairs); {result['method']}; "
            f"a row is significant when its adjusted p (p_adj) is below {result['alpha']:g}. "
            "Not tested: fewer than 3 shared inputs, or a set metric whose set sizes differ.")


CI_HEADER = "adj. CI"  # the interval column: FCR-adjusted (``harness.stats.comparisons``)
HEADERS = ("cell", "metric", "A", "B", "B − A", CI_HEADER, "n", "p_adj", "verdict")


def summary_line(result: dict[str, Any]) -> str:
    """The comparison in one line: rows that differ of those tested, what was not tested,
    what was left out. Every renderer and the terminal print this same count."""
    sig, tested = result["significant"], result["tested"]
    text = (f"{sig} of {tested} tested row{'' if tested == 1 else 's'} "
            f"differ{'s' if sig == 1 else ''} (p_adj < {result['alpha']:g})")
    if result["untested"]:
        text += f"; {result['untested']} not tested (see their notes)"
    if result["hidden"]:
        text += ("; left out, the same everywhere or bookkeeping: "
                 + ", ".join(result["hidden"]))
    return text + "."


def render_compare_markdown(result: dict[str, Any], title: str) -> str:
    """Return a Markdown table of B − A per row, significant rows marked."""
    lines = [f"# {md_escape(title)}", "", md_escape(explain(result)), "",
             md_escape(summary_line(result)), "",
             "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for r in result["rows"]:
        cell = md_escape(str(r["cell"]))
        mark = f"**{md_escape(verdict(r))}**" if r["significant"] else md_escape(verdict(r))
        lines.append(f"| {cell} | {md_escape(r['metric'])} | {r['a']:.4g} | {r['b']:.4g} | "
                     f"{r['diff']:+.4g} | {ci(r)} | {r['n_pairs']} | {p_value(r['p_adj'])} | "
                     f"{mark} |")
    for side, cells in (("A", result["only_a"]), ("B", result["only_b"])):
        if cells:
            lines += ["", f"Only in {side}: " + ", ".join(md_escape(c) for c in cells)]
    return "\n".join(lines) + "\n"


def compare_table_html(result: dict[str, Any], only_significant: bool = False) -> str:
    """Return the comparison rows as an HTML table (every string escaped)."""
    rows = []
    for r in result["rows"]:
        if only_significant and not r["significant"]:
            continue
        cls = ' class="sig"' if r["significant"] else ""
        rows.append(f"<tr{cls}><td>{escape(str(r['cell']))}</td><td>{escape(r['metric'])}</td>"
                    f"<td>{r['a']:.4g}</td><td>{r['b']:.4g}</td><td>{r['diff']:+.4g}</td>"
                    f"<td>{ci(r)}</td><td>{r['n_pairs']}</td><td>{p_value(r['p_adj'])}</td>"
                    f"<td>{escape(verdict(r))}</td></tr>")
    return ('<table class="compare"><tr>' + "".join(f"<th>{escape(h)}</th>" for h in HEADERS)
            + "</tr>" + "".join(rows) + "</table>")


def render_compare_html(result: dict[str, Any], title: str) -> str:
    """Return a self-contained HTML page of the comparison (every string escaped)."""
    only = "".join(f"<p>Only in {side}: {escape(', '.join(cells))}</p>"
                   for side, cells in (("A", result["only_a"]), ("B", result["only_b"]))
                   if cells)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{escape(title)}</title>
<style>body{{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
td:first-child,td:nth-child(2){{text-align:left}}tr.sig{{background:#fff3cd}}</style></head>
<body><h1>{escape(title)}</h1>
<p>{escape(explain(result))} Highlighted rows are significant.</p>
<p>{escape(summary_line(result))}</p>
{compare_table_html(result)}{only}</body></html>
"""


COMPARE_FORMATS = ("md", "html", "json")  # the report formats a comparison is written in


def render_compare(result: dict[str, Any], title: str, fmt: str) -> str:
    """A comparison (``harness.stats.comparisons``) in ``fmt``: md, html or json."""
    if fmt == "md":
        return render_compare_markdown(result, title)
    if fmt == "html":
        return render_compare_html(result, title)
    if fmt == "json":
        return dumps(result, indent=2) + "\n"
    raise ValueError(f"unknown comparison format {fmt!r}; expected one of {COMPARE_FORMATS}")
