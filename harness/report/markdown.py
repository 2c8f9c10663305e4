"""Markdown report: compact enough for a CI job summary or a PR comment.

Every string that comes from a suite, a model or a report file goes through ``_esc``, so
none of it is active Markdown or HTML: no image (a remote ``![x](http://...)`` would be
fetched when GitHub renders a step summary), link, raw HTML, code span, emphasis, math or
table cell break, and no line break that could start a heading or a list.
"""

from __future__ import annotations

from typing import Any

from harness.metrics.direction import JUDGED
from harness.report.format import md_escape as _esc
from harness.report.format import truncated_share, value_ci
from harness.report.sections import (
    CHECK_HEADERS,
    PARTS,
    check_rows,
    checks_line,
    checks_note,
    human_lines,
    sections,
)

KEY_METRICS = ("distinct_answers", "degenerate", "distinct_2", "self_bleu",
               "embedding_diversity", "perplexity", "relevance", "max_verbatim_span",
               "mean_length")


TRUNCATED_NOTE = ("cut = share of the cell's samples that stopped at the token limit "
                  "(max_tokens) instead of ending; – = not recorded. A metric that does not "
                  "apply to a cell (no constraint, persona or reference) is –.")


def pareto_note(summary: dict[str, Any]) -> str:
    """What ★ means, or why there is no creativity–coherence frontier and how to get one."""
    pareto = summary["pareto"]
    x, y = pareto.get("x"), pareto.get("y")
    if pareto.get("note"):
        return str(pareto["note"])
    if x and y:
        return f"★ = on the creativity–coherence Pareto frontier ({x} vs {y})."
    missing = " and ".join(w for w, m in (("diversity", x), ("coherence", y)) if not m)
    return (f"No Pareto frontier: the suite computes no {missing} metric; add one "
            "(e.g. distinct_2, perplexity) to `metrics:` or name the axes in `plot: {x: …, "
            "y: …}`.")


def pareto_lines(summary: dict[str, Any]) -> list[str]:
    """What the Pareto frontier says, as plain sentences for every report: its cells, the
    cells within noise of it, whether the run can separate them at all (and how many
    inputs would), and the cells left out as degenerate or word salad; or why there is
    none."""
    pareto = summary["pareto"]
    on, noise = pareto.get("cells") or [], pareto.get("within_noise") or []
    if not on:
        lines = [pareto_note(summary)]
    else:
        lines = [f"★ Pareto frontier ({pareto['x']} vs {pareto['y']}; no other cell is better "
                 f"on both): {', '.join(on)}."]
        if noise:
            lines.append("Within noise of it (beaten by means only, by no cell beyond the "
                         f"intervals): {', '.join(noise)}.")
    und = pareto.get("undecided")
    if und:
        need = und.get("inputs_needed")
        lines.append(
            f"This run cannot separate its cells: {und['close']} of {und['of']} are on the "
            f"frontier or within noise of it, over {und['n_inputs']} inputs each. "
            + (f"About {need} inputs would tell a typical cell within noise from the cell "
               "that beats it by means (paired t-test, 80% power, at the differences seen)."
               if need else "More inputs narrow the intervals; the differences seen are "
               "too small for any practical number of inputs to separate them."))
    excluded = pareto.get("excluded") or {}
    if excluded:
        lines.append("Never on the frontier or best: "
                     + "; ".join(f"{c} ({why})" for c, why in excluded.items()) + ".")
    return lines


def cells_note(summary: dict[str, Any]) -> str:
    """Say what the cell intervals are computed over: inputs × samples and the method."""
    cells = summary["cells"]
    ks = sorted({c.get("n_inputs") or max((m.get("n_inputs", 0) for m in c["metrics"].values()),
                                          default=0) for c in cells})
    ns = sorted({c["n"] for c in cells})
    methods = sorted({m.get("method", "") for c in cells for m in c["metrics"].values()} - {""})
    k = "/".join(map(str, ks)) or "0"
    n = "/".join(map(str, ns)) or "0"
    per = sorted({round(c["n"] / max(1, c.get("n_inputs") or 1), 2) for c in cells})
    size = "/".join(f"{p:g}" for p in per) or "0"
    text = (f"Each cell: {k} input{'' if k == '1' else 's'}, {n} samples in all ({size} "
            "per input: the set size of the set metrics, which move with it). A value is the "
            "mean over inputs (a set metric is computed per input over its samples); 95% interval: "
            + ("; ".join(methods) or "none") + ".")
    if len(per) > 1:
        text += " Set sizes differ between cells: do not compare their set metrics."
    if ks and ks[0] < 4:
        text += (f" With {ks[0]} input{'' if ks[0] == 1 else 's'} intervals are wide or "
                 "missing: add inputs to the suite to narrow them.")
    return text


def key_metrics(summary: dict[str, Any]) -> list[str]:
    """Return the metrics to show in compact tables: the plot axes, then the usual ones."""
    names = list(summary["metrics"])
    axes = [summary["pareto"].get("x"), summary["pareto"].get("y")]
    judged = [m for m in names if m.startswith(JUDGED)]
    ordered = [m for m in axes if m] + judged + [m for m in KEY_METRICS if m in names]
    ordered += [m for m in names if m not in ordered]
    return list(dict.fromkeys(ordered))


def render_markdown(summary: dict[str, Any], checks: list[dict[str, Any]] | None = None,
                    max_metrics: int = 7) -> str:
    """Return the Markdown report of a summary; failed checks first when given."""
    run = summary["run"]
    lines = [f"# {_esc(run['suite'])} — run {_esc(run['id'], code=True)}", ""]
    lines.append(f"model {_esc(run['model'], code=True)} on {_esc(run['backend'], code=True)}"
                 f" · {_esc(run['n_requests'])} generations · {len(summary['cells'])} cells · "
                 f"harness {_esc(run['harness_version'])}"
                 + (f" · commit {_esc(str(run['git_commit'])[:10], code=True)}"
                    if run.get("git_commit") else ""))
    lines.append("")
    checks = checks if checks is not None else summary.get("checks")
    if checks:
        lines += [f"## Checks: {checks_line(checks)}", ""]
        if rows := check_rows(checks, passed=False):
            lines += _table(CHECK_HEADERS, rows)
        if checks_note(checks):
            lines += [_esc(checks_note(checks)), ""]
    pareto = summary["pareto"]
    lines += [_esc(line) + "  " for line in pareto_lines(summary)] + [""]
    metrics = key_metrics(summary)[:max_metrics]
    lines.append("## Cells (mean [95% CI])")
    lines.append("")
    lines.append(_esc(cells_note(summary) + " " + TRUNCATED_NOTE))
    lines.append("")
    lines.append("| cell | n | cut | " + " | ".join(map(_esc, metrics)) + " |")
    lines.append("|---|---|---|" + "---|" * len(metrics))
    for cell in summary["cells"]:
        star = " ★" if cell["cell"] in pareto["cells"] else ""
        row = [value_ci(cell["metrics"].get(m)) for m in metrics]
        lines.append(f"| {_esc(cell['cell'])}{star} | {_esc(cell['n'])} | "
                     f"{_esc(truncated_share(cell))} | " + " | ".join(row) + " |")
    lines.append("")
    lines += _variant_comparisons(summary, metrics)
    lines += _judges(summary)
    lines.append("Metrics: " + "; ".join(
        f"**{_esc(m)}** ({_esc(summary['metrics'][m]['description'])})" for m in metrics
        if summary["metrics"][m].get("description")))
    lines.append("")
    return "\n".join(lines)


def _variant_comparisons(summary: dict[str, Any], metrics: list[str]) -> list[str]:
    from harness.report.compare import CI_HEADER, summary_line, verdict

    result = summary.get("comparisons")  # the rows `harness compare` shows
    if not result or len({c["variant"] for c in summary["cells"]}) < 2:
        return []
    sig = [r for r in result["rows"] if r["significant"]]
    lines = [f"## Variants vs {_esc(result['reference'], code=True)} (paired by input)", "",
             f"{_esc(summary_line(result))} ({_esc(result['method'])})"]
    if sig:
        lines += ["", f"| cells | metric | B − A | {CI_HEADER} | p_adj | verdict |",
                  "|---|---|---|---|---|---|"]
        for r in sig:
            lines.append(f"| {_esc(r['cell'])} | {_esc(r['metric'])} | {r['diff']:+.3g} | "
                         f"[{r['lo']:.3g}, {r['hi']:.3g}] | {r['p_adj']:.2g} | "
                         f"{_esc(verdict(r))} |")
    return lines + [""]


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    return (["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
            + ["| " + " | ".join(_esc(c) for c in row) + " |" for row in rows] + [""])


def _judges(summary: dict[str, Any]) -> list[str]:
    """The judges' reliability, the human ratings' verdict and the run's token use."""
    lines: list[str] = []
    part = None
    for sec in sections(summary):
        if sec.part != part:
            part = sec.part
            lines += [f"## {PARTS[part]}", ""]
            if part == "human":
                lines += [_esc(line) + "  " for line in human_lines(summary)] + [""]
        if sec.note:
            lines += [_esc(sec.note), ""]
        lines += _table(sec.headers, sec.rows)
    return lines
