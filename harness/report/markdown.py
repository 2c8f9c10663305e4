"""Markdown report: compact enough for a CI job summary or a PR comment."""

from __future__ import annotations

from typing import Any

KEY_METRICS = ("distinct_2", "self_bleu", "embedding_diversity", "perplexity", "relevance",
               "max_verbatim_span", "mean_length")


def fmt_value(m: dict[str, float] | None) -> str:
    """Return ``mean [lo, hi]`` (or just the value when the interval is a point)."""
    if m is None:
        return "–"
    if m.get("lo") is None or m["lo"] == m["hi"]:
        return f"{m['mean']:.3g}"
    return f"{m['mean']:.3g} [{m['lo']:.3g}, {m['hi']:.3g}]"


def _esc(text: str) -> str:
    return str(text).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def key_metrics(summary: dict[str, Any]) -> list[str]:
    """Return the metrics to show in compact tables: the plot axes, then the usual ones."""
    names = list(summary["metrics"])
    axes = [summary["pareto"].get("x"), summary["pareto"].get("y")]
    ordered = [m for m in axes if m] + [m for m in KEY_METRICS if m in names]
    ordered += [m for m in names if m not in ordered]
    return list(dict.fromkeys(ordered))


def render_markdown(summary: dict[str, Any], checks: list[dict[str, Any]] | None = None,
                    max_metrics: int = 7) -> str:
    """Return the Markdown report of a summary; failed checks first when given."""
    run = summary["run"]
    lines = [f"# {_esc(run['suite'])} — run `{run['id']}`", ""]
    lines.append(f"model `{_esc(run['model'])}` on `{run['backend']}` · "
                 f"{run['n_requests']} generations · {len(summary['cells'])} cells · "
                 f"harness {run['harness_version']}"
                 + (f" · commit `{run['git_commit'][:10]}`" if run.get("git_commit") else ""))
    lines.append("")
    checks = checks if checks is not None else summary.get("checks")
    if checks:
        failed = [c for c in checks if not c["passed"]]
        lines.append(f"## Checks: {len(checks) - len(failed)}/{len(checks)} passed")
        lines.append("")
        if failed:
            lines += ["| check | cell | value | baseline | why |", "|---|---|---|---|---|"]
            for c in failed:
                lines.append(f"| ❌ {_esc(c['check'])} | {_esc(c['cell'])} | {_num(c['value'])}"
                             f" | {_num(c.get('baseline'))} | {_esc(c['reason'])} |")
            lines.append("")
    pareto = summary["pareto"]
    if pareto["cells"]:
        lines.append(f"**Pareto frontier** ({pareto['x']} vs {pareto['y']}): "
                     + ", ".join(f"`{_esc(c)}`" for c in pareto["cells"]))
        lines.append("")
    metrics = key_metrics(summary)[:max_metrics]
    lines.append("## Cells (mean [95% CI])")
    lines.append("")
    lines.append("| cell | n | " + " | ".join(metrics) + " |")
    lines.append("|---|---|" + "---|" * len(metrics))
    for cell in summary["cells"]:
        star = " ★" if cell["cell"] in pareto["cells"] else ""
        row = [fmt_value(cell["metrics"].get(m)) for m in metrics]
        lines.append(f"| {_esc(cell['cell'])}{star} | {cell['n']} | " + " | ".join(row) + " |")
    lines.append("")
    lines.append("Metrics: " + "; ".join(
        f"**{m}** ({_esc(summary['metrics'][m]['description'])})" for m in metrics
        if summary["metrics"][m].get("description")))
    lines.append("")
    return "\n".join(lines)


def _num(v: float | None) -> str:
    return "–" if v is None else f"{v:.4g}"
