"""The HTML report's sample browser: one folded group per variant × grid point × input,
near-duplicate answers folded under their first, verbatim overlaps highlighted, and the
filters' index as script data."""

from __future__ import annotations

from typing import Any

from harness.report.format import num
from harness.report.html_escape import escape, highlight_overlaps, script_json
from harness.summarize.cells import grid_label


def sample_browser(samples: list[dict[str, Any]], total: int) -> str:
    """The sample browser: one group per (cell, input), its samples collapsed into their
    answer classes (near-duplicates behind a "same answer" fold) when the run counted
    distinct answers."""
    groups: list[list[dict[str, Any]]] = []
    for smp in samples:  # plan order: a (cell, input)'s samples are consecutive
        if groups and (groups[-1][0].get("cell"), groups[-1][0].get("input_id")) == (
                smp.get("cell"), smp.get("input_id")):
            groups[-1].append(smp)
        else:
            groups.append([smp])
    index = [{"variant": g[0].get("variant", ""), "input": str(g[0].get("input_id", "")),
              "grid": grid_label(g[0].get("grid") or {}), "n": len(g)} for g in groups]
    out = ['<section id="browser"><h2>Samples</h2>',
           '<p class="note">One row per variant × grid point × input, folded (the first is '
           "open): click a row to read its samples, or narrow the rows with the filters and "
           "open them all.</p>"]
    if total > len(samples):
        out.append(f'<p class="note">Showing the first {len(samples)} of {total} samples.</p>')
    if any("answer_class" in smp for smp in samples):
        out.append('<p class="note">Samples of one prompt (variant × grid point × input) that '
                   "give the same answer in other words are folded under their first one "
                   "(equivalence: see <code>distinct_answers</code> in docs/metrics.md).</p>")
    out.append('<div class="filters">')
    for key, label in (("variant", "variant"), ("input", "input"), ("grid", "grid point")):
        opts = list(dict.fromkeys(i[key] for i in index))
        out.append(f'<label>{label} <select id="f-{key}"><option value="">all</option>'
                   + "".join(f'<option value="{escape(o)}">{escape(o)}</option>' for o in opts)
                   + "</select></label>")
    out.append(f'<span id="sample-count" class="note">{len(samples)} samples</span> '
               '<button type="button" id="open-all">open all shown</button> '
               '<button type="button" id="fold-all">fold all</button></div>')
    out.append('<div id="samples">')
    out_groups = 0
    for group, i in zip(groups, index, strict=True):
        cut = sum(smp.get("finish_reason") == "length" for smp in group)
        classes: dict[int, list[dict[str, Any]]] = {}
        for n, smp in enumerate(group):
            classes.setdefault(int(smp.get("answer_class", n)), []).append(smp)
        counted = any("answer_class" in smp for smp in group)
        what = (f"{len(classes)} distinct answer{'s' * (len(classes) != 1)} among "
                f"{len(group)} sample{'s' * (len(group) != 1)}" if counted
                else f"{len(group)} sample{'s' * (len(group) != 1)}")
        out.append(f'<details class="group" data-variant="{escape(i["variant"])}"'
                   f'{" open" if not out_groups else ""}><summary>'
                   f"<b>{escape(i['variant'])}</b> · input <b>{escape(i['input'])}</b> · "
                   f'{escape(i["grid"])} · <span class="answers">{what}</span>'
                   + (f' · <span class="cut">{cut} cut by the token limit</span>' if cut else "")
                   + '</summary><div class="cards">')
        out_groups += 1
        for members in classes.values():
            out.append(_sample(members[0], i))
            if len(members) > 1:
                out.append(f'<details class="copies"><summary>{len(members) - 1} more '
                           f"sample{'s' * (len(members) != 2)} with the same answer</summary>"
                           '<div class="copies-grid">'
                           + "".join(_sample(m, i) for m in members[1:]) + "</div></details>")
        out.append("</div></details>")
    out.append("</div>")
    out.append(f'<script type="application/json" id="sample-index">{script_json(index)}</script>')
    out.append("</section>")
    return "\n".join(out)


def _sample(s: dict[str, Any], i: dict[str, Any]) -> str:
    msgs = s.get("messages") or []
    prompt = "".join(f'<div class="msg"><span class="role">{escape(str(m.get("role", "")))}'
                     f":</span> {escape(str(m.get('content', '')))}</div>" for m in msgs)
    scores = "".join(f"<span>{escape(k)} <b>{_num(v)}</b></span>"
                     for k, v in sorted((s.get("scores") or {}).items()))
    tail = f"{escape(str(s['completion_tokens']))} tokens" if s.get(
        "completion_tokens") is not None else ""
    if s.get("finish_reason") == "length":
        tail += ' · <span class="cut">cut by the token limit</span>'
    return (f'<article class="sample" data-variant="{escape(i["variant"])}">'
            f"<header><b>{escape(str(s.get('cell', '')))}</b> · input "
            f"<b>{escape(i['input'])}</b> · sample {escape(str(s.get('sample_index', '')))}"
            f"{' · ' + tail if tail else ''}</header>"
            f"<details><summary>prompt ({len(msgs)} message{'s' * (len(msgs) != 1)})</summary>"
            f"{prompt}</details>"
            f'<div class="text">{highlight_overlaps(str(s.get("text", "")), s.get("overlaps"))}'
            f'</div><div class="scores">{scores}</div></article>')



def _num(v: Any) -> str:
    """A number as ``format.num`` writes it; anything else escaped as text."""
    return num(v) if v is None or isinstance(v, (int, float)) else escape(str(v))
