"""What the ``harness`` command prints: the two consoles and the tables of a run, a gate,
a comparison, scores, metrics and runs, laid out for a terminal (or a pipe).

Every string that comes from a suite, a model, a server, a store or a sheet goes through
``harness.text.safe`` (tables, titles, lines) or ``plain`` (lines printed without markup)
before it reaches rich: escaped for rich markup, no control or bidi characters, secrets
masked. Nothing here computes a statistic: it lays out what the library returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from harness.text import plain, safe

if TYPE_CHECKING:
    from harness.stats.gate import CheckResult
    from harness.store.tables import Run

# Piped output (CI logs, files, `| less`) gets no width limit: rich would otherwise draw
# tables 80 columns wide and cut run ids and numbers; a table takes its natural width.
PIPED_WIDTH = 1000
# no emoji codes: ``:skull:`` in a prompt id is shown as typed
out = Console(emoji=False)
if not out.is_terminal:
    out = Console(width=PIPED_WIDTH, emoji=False)
err = Console(stderr=True, soft_wrap=True, emoji=False)


def error(message: str) -> None:
    """One ``error:`` line on stderr; a continuation line is indented, so only the first
    line of a message starts ``error:``."""
    from rich.text import Text

    lines = plain(message).split("\n")
    text = "\n".join(lines[:1] + [ln if ln[:1].isspace() else "  " + ln for ln in lines[1:]])
    err.print(Text("error: ", style="bold red") + Text(text))


def log(message: str) -> None:
    err.print(plain(message), highlight=False, markup=False)


def line(text: str) -> None:
    """A line of text with no markup (a note, a summary sentence)."""
    out.print(plain(text), highlight=False, markup=False)


def print_summary(summary: dict[str, Any]) -> None:
    """The cells table, laid out for the terminal's width (``harness.report.terminal``)."""
    from harness.report.terminal import cells_tables

    for part in cells_tables(summary, out.width):
        out.print(part)


def print_quality(summary: dict[str, Any], human_only: bool = False) -> None:
    """The judges' reliability and strengths, the human ratings' verdict on every metric
    and judge, and (when there are judges) the tokens; only the parts the run has, or
    with ``human_only`` only the human ratings' (after an import)."""
    from harness.report.sections import human_lines, sections

    for sec in sections(summary):
        if (human_only and sec.part != "human") or (
                sec.part == "usage" and not summary.get("judges")):
            continue
        note = sec.note
        if sec.part == "human":
            note = " ".join([*human_lines(summary), note])
        table = Table(title=safe(sec.title), caption=safe(note.strip()) or None)
        for h in sec.headers:
            table.add_column(safe(h))
        for row in sec.rows:
            table.add_row(*map(safe, row))
        out.print(table)


def print_profile(profile: dict[str, Any]) -> None:
    table = Table(title="where the time went (wall clock, this process)")
    table.add_column("phase", no_wrap=True)
    table.add_column("seconds", justify="right")
    table.add_column("share", justify="right")
    total = profile["total_s"] or 1.0
    for phase, s in profile["seconds"].items():
        if phase == "generate" and profile["tokens_per_s"] is not None:
            phase += f" ({profile['generated_tokens']} tokens, {profile['tokens_per_s']} tok/s)"
        table.add_row(phase, f"{s:.2f}", f"{s / total:.0%}")
    table.add_row("total", f"{profile['total_s']:.2f}", "100%")
    out.print(table)


def print_checks(result: CheckResult, suite: str) -> None:
    """The gate's rows (failing first), the notes that say what they mean, and the count."""
    from harness.report.format import num
    from harness.stats.gate import FAIL, NEW, PASS

    rows = result.rows
    table = Table(title=safe(f"checks of {suite} (run {result.run_id})"),
                  caption="relative rows: one-sided paired t-test over shared inputs, "
                          "Holm-adjusted; mdc = smallest worsening caught with 80% power"
                  if any(r.get("p") is not None for r in rows) else None)
    # a column no row fills (no baseline: its value, n and mdc) is left out
    cols = {"check": lambda r: safe(r["check"]), "cell": lambda r: safe(r["cell"]),
            "value": lambda r: num(r["value"]),
            "baseline": lambda r: num(r["baseline"]) if r["baseline"] is not None else "",
            "n": lambda r: str(r["n_inputs"] or ""),
            "mdc": lambda r: num(r["mdc"]) if r.get("mdc") is not None else "",
            "why": lambda r: safe(r["reason"] or "")}
    cols = {k: f for k, f in cols.items() if any(f(r) for r in rows)}
    table.add_column("result", no_wrap=True)
    for col in cols:
        table.add_column(col, no_wrap=col not in ("check", "why"))
    style = {PASS: "green", FAIL: "red", NEW: "cyan"}
    for r in rows:
        table.add_row(f"[{style[r['status']]}]{r['status']}[/]", *[f(r) for f in cols.values()])
    out.print(table)
    for note in result.notes:
        line(note)


def print_comparison(result: dict[str, Any], title: str) -> None:
    """A comparison's rows as a table, the cells only one side has, and its verdict."""
    from harness.report.compare import HEADERS, summary_line, verdict
    from harness.report.format import ci, p_value

    table = Table(title=safe(title), caption=safe(result["method"] + "; * = p_adj < 0.05"))
    for col in HEADERS:
        table.add_column(col, no_wrap=col != "verdict")
    for r in result["rows"]:
        table.add_row(safe(r["cell"]), safe(r["metric"]), f"{r['a']:.4g}", f"{r['b']:.4g}",
                      f"{r['diff']:+.4g}", ci(r), str(r["n_pairs"]), p_value(r["p_adj"]),
                      safe(("* " if r["significant"] else "") + verdict(r)))
    out.print(table)
    for side, cells in (("A", result["only_a"]), ("B", result["only_b"])):
        if cells:
            out.print(f"only in {side}: {safe(', '.join(cells))}")
    line(summary_line(result))


def print_scores(title: str, result: dict[str, dict[str, Any]], names: Sequence[str]) -> None:
    """``harness score``: one row per group of texts, one column per metric."""
    from harness.report.format import num

    table = Table(title=safe(title), caption="– = the metric does not apply to any text "
                  "of the group (e.g. bleu without a reference)")
    table.add_column("group")
    for n in names:
        table.add_column(safe(n), justify="right")
    for group, values in result.items():
        table.add_row(safe(group), *[num(values.get(n)) for n in names])
    out.print(table)


def print_metrics() -> None:
    """Every registered metric with its kind, direction, description and source."""
    from harness.metrics import DEFAULT_METRICS, METRICS

    table = Table(title="metrics (* = computed on every run by default)")
    for col in ("name", "kind", "higher is", "description", "source"):
        table.add_column(col)
    for name in sorted(METRICS):
        spec = METRICS[name]
        star = "*" if name in DEFAULT_METRICS else ""
        table.add_row(*map(safe, (name + star, spec.kind, spec.higher_is or "",
                                  spec.description, spec.source)))
    out.print(table)


def print_runs(rows: Sequence[Run], made: dict[str, int]) -> None:
    """The newest runs: what each generated, of its requests, and what it reused."""
    import time

    table = Table(caption="generated: made by the run, of its requests; from store: "
                          "made by an earlier run and reused")
    for col in ("run", "suite", "model", "backend", "status", "generated", "from store",
                "started"):
        table.add_column(col, no_wrap=col in ("run", "started"))
    for r in rows:
        table.add_row(*map(safe, (r.id, r.suite_name, r.model, r.backend, r.status)),
                      f"{made[r.id]}/{r.n_requests}", str(max(0, r.n_generated - made[r.id])),
                      time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started_at)))
    out.print(table)
