"""Self-contained HTML report: one file, no network. Run header and checks, the
creativity–coherence plot with its Pareto frontier, temperature sweeps, a table per metric
and a sample browser with verbatim overlaps highlighted.

Everything that comes from a suite or a model is escaped with ``escape``: ``html.escape``
(``quote=True``) after replacing control characters other than tab, newline and CR, and
lone surrogates, with U+FFFD. The only script data is JSON in a
``<script type="application/json">`` block with ``<``, ``>`` and ``&`` written as
``\\u003c`` etc. A Content-Security-Policy forbids every fetch and every script except the
page's own (by hash), so even a missed escape could not run code.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any

from harness.metrics.direction import direction
from harness.report.compare import compare_table_html, explain, summary_line
from harness.report.format import num, truncated_share, value_ci
from harness.report.html_escape import escape
from harness.report.html_samples import sample_browser
from harness.report.markdown import TRUNCATED_NOTE, cells_note, key_metrics, pareto_lines
from harness.report.sections import (
    CHECK_HEADERS,
    PARTS,
    check_rows,
    checks_note,
    human_lines,
    sections,
)
from harness.report.svg import Point, Series, chart, color
from harness.summarize.cells import grid_label

FONTS = ('system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", '
         '"Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif')

CSS = """
*{box-sizing:border-box}
body{font-family:@FONTS@;margin:0 auto;max-width:1200px;padding:16px 24px 48px;color:#1d1d1f;
 line-height:1.45;font-size:15px}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin:1.6em 0 .5em;
 border-bottom:1px solid #ddd;padding-bottom:.2em}
.meta{color:#555}.meta code{background:#f3f3f3;padding:0 .3em;border-radius:3px}
.note{color:#666;font-size:.92em}
.banner{padding:.6em .9em;border-radius:6px;margin:.8em 0;font-weight:600}
.fail{background:#fde8e8;border:1px solid #e0a0a0}.pass{background:#e7f6ea;border:1px solid #9c9}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.92em}
th,td{border:1px solid #ddd;padding:.25em .55em;text-align:left;vertical-align:top}
th{background:#f6f6f6}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.best{font-weight:700;background:#eef6ff}td.tied{background:#f4f8fc}
tr.sig{background:#fff3cd}
svg text{font-family:@FONTS@}svg .tick{font-size:11px;fill:#555}svg .axis{font-size:13px;fill:#222}
.legend span{display:inline-block;margin-right:1.2em}
.chip{display:inline-block;width:.8em;height:.8em;border-radius:50%;margin-right:.35em;
 vertical-align:-.05em}
svg.chart{max-width:100%;height:auto;display:block}
.sweeps{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:10px 28px}
.sweep h3{margin:.3em 0;font-size:1em}.panels{display:flex;gap:8px}
figure{margin:0;flex:1}figcaption{font-size:.85em;color:#444;text-align:center}
.tabs button{border:1px solid #ccc;background:#f6f6f6;padding:.3em .7em;margin:0 .3em .3em 0;
 border-radius:4px;cursor:pointer;font:inherit;font-size:.9em}
.tabs button[aria-selected=true]{background:#0072B2;color:#fff;border-color:#0072B2}
.js .tabpanel:not(.active){display:none}
.filters{position:sticky;top:0;background:#fff;padding:.5em 0;border-bottom:1px solid #eee;
 z-index:1}.filters label{margin-right:1em}
.filters select{font:inherit;padding:.15em .3em;max-width:16em}
#samples{margin-top:.7em}
.cards,.copies-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(480px,100%),1fr));
 gap:12px;align-items:start}
.group{border-top:1px solid #e4e4e4;padding:.35em 0}
.group>summary{cursor:pointer;font-size:.95em}.group .answers{font-weight:600}
.group[open]>summary{margin-bottom:.5em}.cut{color:#a33}
.filters button{font:inherit;font-size:.85em;margin-left:.5em}
details.copies{grid-column:1/-1}details.copies>summary{color:#0072B2;cursor:pointer}
.copies-grid{margin-top:.5em}
.sample{border:1px solid #ddd;border-radius:6px;padding:.6em .8em;min-width:0}
.sample header{font-size:.88em;color:#444;margin-bottom:.3em}
.text{white-space:pre-wrap;overflow-wrap:anywhere;margin:.4em 0;padding:.5em .7em;
 background:#fafafa;border-left:3px solid #ccc}
mark{background:#ffe08a;border-bottom:2px solid #d4a000;padding:0}
.msg{white-space:pre-wrap;overflow-wrap:anywhere;margin:.3em 0}.role{font-weight:600;color:#555}
.scores{font-size:.85em;color:#333}
.scores span{display:inline-block;margin-right:1em;white-space:nowrap}
[hidden]{display:none!important}
""".replace("@FONTS@", FONTS)

JS = """
(function(){
document.documentElement.classList.add('js');
document.querySelectorAll('.tabs').forEach(function(tabs){
 var buttons=tabs.querySelectorAll('button');
 var panels=document.querySelectorAll('.tabpanel[data-tabs="'+tabs.dataset.tabs+'"]');
 buttons.forEach(function(b,i){b.addEventListener('click',function(){
  buttons.forEach(function(o,j){o.setAttribute('aria-selected',i===j?'true':'false');});
  panels.forEach(function(p,j){p.classList.toggle('active',i===j);});});});
});
var idx=JSON.parse(document.getElementById('sample-index').textContent);
var items=document.querySelectorAll('#samples .group');
var f={variant:document.getElementById('f-variant'),input:document.getElementById('f-input'),
 grid:document.getElementById('f-grid')};
var count=document.getElementById('sample-count');
var total=idx.reduce(function(a,s){return a+s.n;},0);
function apply(){var shown=0;
 items.forEach(function(el,i){var s=idx[i];var ok=['variant','input','grid'].every(
  function(k){return !f[k].value||s[k]===f[k].value;});el.hidden=!ok;if(ok)shown+=s.n;});
 count.textContent=shown+' of '+total+' samples shown';}
Object.keys(f).forEach(function(k){f[k].addEventListener('change',apply);});
[['open-all',true],['fold-all',false]].forEach(function(b){
 document.getElementById(b[0]).addEventListener('click',function(){
  items.forEach(function(el){if(!el.hidden)el.open=b[1];});});});
apply();
})();
"""


def render_html(summary: dict[str, Any], checks: list[dict[str, Any]] | None = None,
                max_samples: int = 5000) -> str:
    """Return the report of ``summary`` as one self-contained HTML document (a string).

    ``checks`` (default: ``summary["checks"]``) are shown first, failed ones on top. At most
    ``max_samples`` samples go into the browser (the first ones, in summary order).
    """
    run = summary["run"]
    samples = summary.get("samples") or []
    title = f"{run.get('suite', '?')} — run {run.get('id', '?')}"
    script_hash = base64.b64encode(hashlib.sha256(JS.encode()).digest()).decode()
    csp = (f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
           f"script-src 'sha256-{script_hash}'")
    checks = checks if checks is not None else summary.get("checks")
    body = [_header(summary), _checks(checks), _tradeoff(summary), _sweeps(summary),
            _tables(summary), _comparisons(summary), _judges(summary),
            sample_browser(samples[:max_samples], len(samples))]
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>", f"<style>{CSS}</style></head><body>",
        *body,
        f"<script>{JS}</script>", "</body></html>", ""])


# -- pieces ------------------------------------------------------------------------------

def axis_label(summary: dict[str, Any], metric: str, axis: str) -> str:
    """Return ``metric (higher|lower = more diverse|coherent)``: the direction of ``metric``
    on the plot's ``axis`` ("x" = diversity, "y" = coherence); the metric alone when it has
    no direction or the plot's axes are not a creativity–coherence pair."""
    up = better_when_up(summary, metric)
    if up is None or (summary.get("pareto") or {}).get("note"):
        return metric
    word = "more diverse" if axis == "x" else "more coherent"
    return f"{metric} ({'higher' if up else 'lower'} = {word})"


def better_when_up(summary: dict[str, Any], metric: str) -> bool | None:
    """Return True if higher ``metric`` is better (more diverse/coherent), False if lower
    is, None when the summary gives it no direction (read from the summary, so a report
    of metrics this harness does not know still reads)."""
    return direction(summary["metrics"].get(metric, {}).get("higher_is"))


def _variants(summary: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(c["variant"] for c in summary["cells"]))


def _header(summary: dict[str, Any]) -> str:
    run = summary["run"]
    bits = [f"model <code>{escape(str(run.get('model', '?')))}</code> on "
            f"<code>{escape(str(run.get('backend', '?')))}</code>",
            f"{run.get('n_requests', len(summary.get('samples') or []))} generations",
            f"{len(summary['cells'])} cells", f"status {escape(str(run.get('status', '?')))}",
            f"harness {escape(str(run.get('harness_version', '?')))}"]
    if run.get("git_commit"):
        bits.append(f"commit <code>{escape(str(run['git_commit'])[:10])}</code>")
    if isinstance(run.get("started_at"), (int, float)):
        when = dt.datetime.fromtimestamp(run["started_at"], dt.timezone.utc)
        took = (f" ({run['finished_at'] - run['started_at']:.1f} s)"
                if isinstance(run.get("finished_at"), (int, float)) else "")
        bits.append(f"started {when:%Y-%m-%d %H:%M} UTC{took}")
    path = (f' · suite file <code>{escape(str(run["suite_path"]))}</code>'
            if run.get("suite_path") else "")
    return (f"<header><h1>{escape(str(run.get('suite', '?')))} — run "
            f"<code>{escape(str(run.get('id', '?')))}</code></h1>"
            f'<p class="meta">{" · ".join(bits)}{path}</p></header>')


def _checks(checks: list[dict[str, Any]] | None) -> str:
    if not checks:
        return ""
    failed = sum(not c.get("passed") for c in checks)
    text = (f"✗ {failed} of {len(checks)} checks failed" if failed
            else f"✓ all {len(checks)} checks passed")
    note = checks_note(checks)
    return "\n".join([f'<section id="checks"><div class="banner {"fail" if failed else "pass"}'
                      f'">{text}</div>', _rows_table(CHECK_HEADERS, check_rows(checks)),
                      f'<p class="note">{escape(note)}</p>' if note else "", "</section>"])


def _legend(names: list[str]) -> str:
    return '<div class="legend">' + "".join(
        f'<span><i class="chip" style="background:{color(i)}"></i>{escape(n)}</span>'
        for i, n in enumerate(names)) + "</div>"


def _tradeoff(summary: dict[str, Any]) -> str:
    pareto = summary.get("pareto") or {}
    x, y = pareto.get("x"), pareto.get("y")
    head = '<section id="tradeoff"><h2>Creativity–coherence trade-off</h2>'
    if not x or not y:
        return head + '<p class="note">No diversity/coherence metric pair to plot.</p></section>'
    frontier_ids = list(pareto.get("cells") or [])
    if pareto.get("note"):  # not a creativity–coherence pair: the suite's axes, no frontier
        head = f'<section id="tradeoff"><h2>{escape(y)} against {escape(x)}</h2>'

    variants = _variants(summary)
    series = [Series(v, color(i)) for i, v in enumerate(variants)]
    frontier = []
    for cell in summary["cells"]:
        mx, my = cell["metrics"].get(x), cell["metrics"].get(y)
        if not mx or not my:
            continue
        on = cell["cell"] in frontier_ids
        p = Point(mx["mean"], my["mean"], mx.get("lo"), mx.get("hi"), my.get("lo"), my.get("hi"),
                  title=f"{cell['cell']}\n{x} = {value_ci(mx)}\n{y} = {value_ci(my)}", ring=on,
                  hollow=cell["cell"] in (pareto.get("excluded") or {}))
        series[variants.index(cell["variant"])].points.append(p)
        if on:
            frontier.append((p.x, p.y))
    svg = chart(series, axis_label(summary, x, "x"), axis_label(summary, y, "y"),
                frontier=frontier, width=1000, height=470, css_class="chart tradeoff")
    listed = "".join(f"<p>{escape(line)}</p>" for line in pareto_lines(summary))
    ux, uy = better_when_up(summary, x), better_when_up(summary, y)
    across: dict[bool | None, str] = {True: "right", False: "left"}  # None: no direction
    along: dict[bool | None, str] = {True: "up", False: "down"}
    better = " and ".join(w for w in (across.get(ux), along.get(uy)) if w)
    return (head + '<p class="note">One point per cell (variant × grid point); whiskers are '
            "95% intervals over inputs (a point without whiskers has none); "
            + ("" if pareto.get("note") else "ringed points joined by the dashed line form "
               "the Pareto frontier (no other cell is better on both axes); ")
            + "points at the same place are drawn apart, each joined to it by a grey line; "
            "hollow points are cells left out as degenerate or word salad"
            + (f"; better cells lie {better}" if better else "") + ".</p>"
            + _legend(variants) + svg
            + f'<div id="pareto-cells">{listed}</div></section>')


def _sweeps(summary: dict[str, Any]) -> str:
    pareto = summary.get("pareto") or {}
    metrics = [m for m in (pareto.get("x"), pareto.get("y")) if m]
    head = '<section id="sweeps"><h2>Temperature sweeps</h2>'
    cells = [c for c in summary["cells"] if "temperature" in c["grid"]]
    if not cells or not metrics:
        why = "no temperature in the sampling grid" if not cells else "no metrics to plot"
        return head + f'<p class="note">Skipped: {why}.</p></section>'
    shared = {m: [v for c in cells if m in c["metrics"]
                  for v in (c["metrics"][m]["lo"], c["metrics"][m]["hi"])] for m in metrics}
    out = [head, '<p class="note">Per variant: cell means against temperature, with 95% '
           "intervals; y scales are shared across variants. Other grid keys get one line each."
           "</p>", '<div class="sweeps">']
    for vi, variant in enumerate(_variants(summary)):
        vcells = [c for c in cells if c["variant"] == variant]
        if not vcells:
            continue
        rests = list(dict.fromkeys(grid_label({k: v for k, v in c["grid"].items()
                                               if k != "temperature"}) for c in vcells))
        panels = []
        for m in metrics:
            series = [Series(r, color(i if len(rests) > 1 else vi), connect=True)
                      for i, r in enumerate(rests)]
            for c in vcells:
                mm = c["metrics"].get(m)
                t = c["grid"]["temperature"]
                if mm and isinstance(t, (int, float)):
                    rest = grid_label({k: v for k, v in c["grid"].items() if k != "temperature"})
                    series[rests.index(rest)].points.append(Point(
                        float(t), mm["mean"], ylo=mm.get("lo"), yhi=mm.get("hi"),
                        title=f"{c['cell']}\n{m} = {value_ci(mm)}"))
            label = axis_label(summary, m, "x" if m == pareto.get("x") else "y")
            panels.append(f'<figure><figcaption>{escape(label)}</figcaption>'
                          + chart(series, "temperature", m, width=290, height=230,
                                  y_domain=shared[m], css_class="chart sweep") + "</figure>")
        legend = _legend(rests) if rests != ["default"] else ""
        out.append(f'<div class="sweep"><h3><i class="chip" style="background:{color(vi)}">'
                   f"</i>{escape(variant)}</h3>{legend}<div class=\"panels\">"
                   + "".join(panels) + "</div></div>")
    out.append("</div></section>")
    return "\n".join(out)


def _tables(summary: dict[str, Any]) -> str:
    variants = _variants(summary)
    grids = sorted({grid_label(c["grid"]): c["grid"] for c in summary["cells"]}.items(),
                   key=lambda kv: [(0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v))
                                   for v in kv[1].values()])
    cols = [g for g, _ in grids]
    by = {(c["variant"], grid_label(c["grid"])): c for c in summary["cells"]}
    frontier = set((summary.get("pareto") or {}).get("cells") or [])
    names = key_metrics(summary)
    out = ['<section id="tables"><h2>Metrics by variant and grid point</h2>',
           f'<p class="note">mean [95% CI]. {escape(cells_note(summary))} Bold = best in its '
           "column, its interval clear of every other; shaded = tied for best (the best and "
           "the cells whose intervals overlap it); ★ = on the Pareto frontier; – = the "
           "metric does not apply (no constraint, persona or reference).</p>",
           _truncated(summary, variants, cols, by),
           '<div class="tabs" data-tabs="metrics" role="tablist">']
    out += [f'<button type="button" role="tab" aria-selected="{"true" if i == 0 else "false"}">'
            f"{escape(m)}</button>" for i, m in enumerate(names)]
    out.append("</div>")
    for i, m in enumerate(names):
        info = summary["metrics"][m]
        h = info.get("higher_is")
        best = (summary.get("best") or {}).get(m, {})  # computed with the summary
        direction = f" · higher is {escape(h)}" if h else ""
        out.append(f'<div class="tabpanel{" active" if i == 0 else ""}" data-tabs="metrics">'
                   f"<h3>{escape(m)}</h3><p class=\"note\">{escape(info.get('description', ''))}"
                   f"{direction} · {escape(info.get('kind', ''))}-level · "
                   f"{escape(info.get('source', ''))}</p>"
                   f'<table class="metric" data-metric="{escape(m)}"><tr><th>variant</th>'
                   + "".join(f"<th>{escape(g)}</th>" for g in cols) + "</tr>")
        for v in variants:
            row = [f"<th>{escape(v)}</th>"]
            for g in cols:
                cell = by.get((v, g))
                val = cell["metrics"].get(m) if cell else None
                star = " ★" if cell and cell["cell"] in frontier else ""
                top = best.get(g) or {"cells": [], "clear": False}
                cls = ("num best" if top["clear"] else "num tied") if v in top["cells"] \
                    else "num"
                row.append(f'<td class="{cls}">{escape(value_ci(val))}{star}</td>')
            out.append("<tr>" + "".join(row) + "</tr>")
        out.append("</table></div>")
    out.append("</section>")
    return "\n".join(out)


def _truncated(summary: dict[str, Any], variants: list[str], cols: list[str],
               by: dict[tuple[str, str], dict[str, Any]]) -> str:
    """The share of each cell's samples cut by the token limit, variant × grid point."""
    out = [f'<h3>Cut by the token limit</h3><p class="note">{escape(TRUNCATED_NOTE)}</p>'
           '<table class="truncated"><tr><th>variant</th>'
           + "".join(f"<th>{escape(g)}</th>" for g in cols) + "</tr>"]
    for v in variants:
        out.append(f"<tr><th>{escape(v)}</th>" + "".join(
            f'<td class="num">{escape(truncated_share(by[(v, g)]) if (v, g) in by else "")}'
            "</td>" for g in cols) + "</tr>")
    return "".join(out) + "</table>"


def _comparisons(summary: dict[str, Any]) -> str:
    head = '<section id="comparisons"><h2>Variants compared (paired by input)</h2>'
    if len({c["variant"] for c in summary["cells"]}) < 2:
        return head + '<p class="note">One variant: nothing to compare.</p></section>'
    result = summary.get("comparisons")  # the rows `harness compare` shows
    if not result:
        return head + '<p class="note">Not in this summary.</p></section>'

    sig = result["significant"]
    shown = (compare_table_html(result, only_significant=True) if sig else
             '<p class="note">No row differs beyond noise: with more inputs a smaller '
             "difference becomes detectable.</p>")
    return (head + f'<p class="note">Each variant (B) against <code>'
            f'{escape(str(result["reference"]))}</code> (A) at the same grid point. '
            f"{escape(explain(result))} <b>{escape(summary_line(result))}</b></p>" + shown
            + f'<details id="all-comparisons"><summary>all {len(result["rows"])} rows</summary>'
            + compare_table_html(result) + "</details></section>")


def _rows_table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    return ("<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                      for row in rows) + "</table>")


def _judges(summary: dict[str, Any]) -> str:
    """The judges' reliability, the human ratings' verdict and the run's token use."""
    out: list[str] = []
    part = None
    for sec in sections(summary):
        if sec.part != part:
            out += ["</section>"] if part else []
            part = sec.part
            out.append(f'<section id="{part}"><h2>{escape(PARTS[part])}</h2>')
            if part == "human":
                out += [f'<p class="note">{escape(line)}</p>' for line in human_lines(summary)]
        if sec.note:
            out.append(f'<p class="note">{escape(sec.note)}</p>')
        out.append(_rows_table(sec.headers, sec.rows))
    return "\n".join(out + (["</section>"] if part else []))


def _num(v: Any) -> str:
    """A number as ``format.num`` writes it; anything else escaped as text."""
    return num(v) if v is None or isinstance(v, (int, float)) else escape(str(v))
