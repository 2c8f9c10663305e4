"""The ``harness`` command: a thin layer that parses, calls the library and prints.

Exit codes: 0 ok; 1 a check or regression failed; 2 bad input (suite, file, model, run id,
metric name, plugin); 3 the run failed while generating (what was generated is kept); 4 an
internal error (a bug in harness: its traceback and a request to report it); 130
interrupted (Ctrl-C).

Every string that comes from a suite, a model, a server, a store or a sheet goes through
``harness.text.safe`` (tables, titles, lines) or ``plain`` (lines printed without
markup) before it reaches rich: escaped for rich markup, no control or bidi characters,
secrets masked.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import typer
from rich.console import Console
from rich.table import Table

from harness.api import DEFAULT_STORE
from harness.jsonout import dumps
from harness.text import plain, safe


def _flag_type(self: Any, ctx: Any) -> str | None:
    """A flag takes no value: typer 0.29's help would print ``--json <bool>``."""
    return None if self.is_flag else _option_type(self, ctx)


_option_type = typer.core.TyperOption.display_type_rich
typer.core.TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Prompt-engineering experiments: run suites, score texts, compare runs.")
# Piped output (CI logs, files, `| less`) gets no width limit: rich would otherwise draw
# tables 80 columns wide and cut run ids and numbers; a table takes its natural width.
PIPED_WIDTH = 1000
# no emoji codes: ``:skull:`` in a prompt id is shown as typed
out = Console(emoji=False)
if not out.is_terminal:
    out = Console(width=PIPED_WIDTH, emoji=False)
err = Console(stderr=True, soft_wrap=True, emoji=False)

StoreOpt = typer.Option(DEFAULT_STORE, "--store", help="SQLite store of runs and generations.")

EXIT_CHECKS, EXIT_INPUT, EXIT_RUN, EXIT_INTERNAL, EXIT_INTERRUPTED = 1, 2, 3, 4, 130


class _Exit(Exception):
    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def _input_errors() -> tuple[type[BaseException], ...]:
    """The library's errors for bad input (exit 2), and the OS errors of a path the user
    gave (missing, a directory, not allowed). Nothing else: a ``KeyError`` or
    ``ValueError`` from a bug is an internal error, not the user's fault."""
    from harness.api import ReportError
    from harness.backends.base import BackendConfigError
    from harness.backends.models import ModelError
    from harness.errors import InputError
    from harness.humans.sheets import RatingError
    from harness.metrics import MissingResourceError
    from harness.plugins import PluginError
    from harness.stats.gate import GateError
    from harness.store.tables import StoreError
    from harness.suite.load import SuiteError

    return (InputError, SuiteError, StoreError, ModelError, MissingResourceError, GateError,
            BackendConfigError, ReportError, PluginError, RatingError, FileNotFoundError,
            PermissionError, IsADirectoryError, NotADirectoryError)


@contextmanager
def _errors():
    """Turn library errors into one red line and the documented exit code; anything else
    is an internal error (exit 4) shown with its traceback."""
    from harness.plugins import PluginError

    try:  # importing the metrics loads the metric plugins, which may fail
        from harness.backends.base import BackendError
        bad_input = _input_errors()
    except PluginError as exc:
        _error(str(exc))
        raise typer.Exit(EXIT_INPUT) from None

    try:
        yield
    except _Exit as exc:
        _error(str(exc))
        raise typer.Exit(exc.code) from None
    except (typer.Exit, typer.Abort, click.ClickException):
        raise
    except bad_input as exc:
        if isinstance(exc, OSError) and exc.filename and exc.strerror:
            _error(f"{exc.filename}: {exc.strerror[:1].lower()}{exc.strerror[1:]}")
        else:
            _error(str(exc))
        raise typer.Exit(EXIT_INPUT) from None
    except BackendError as exc:
        _error(str(exc))
        err.print("Everything generated so far is stored; run again to resume.")
        raise typer.Exit(EXIT_RUN) from None
    except sqlite3.Error as exc:  # raised past the store's own checks, mid-run
        if "full" in str(exc):
            _error(f"the disk is full ({exc}); what was generated is stored: free space "
                   "and run again to resume")
            raise typer.Exit(EXIT_RUN) from None
        if _sql_bug(exc):
            _internal_error(exc)
            raise typer.Exit(EXIT_INTERNAL) from None
        _error(f"the store is damaged or not a harness store ({exc}); `sqlite3 STORE "
               "'.recover'` can save what is readable")
        raise typer.Exit(EXIT_INPUT) from None
    except KeyboardInterrupt:
        err.print("interrupted; everything generated so far is stored: run again to resume",
                  markup=False, highlight=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Exception as exc:  # noqa: BLE001 - a bug: reported as one, never as exit 1 or 2
        _internal_error(exc)
        raise typer.Exit(EXIT_INTERNAL) from None


def _sql_bug(exc: sqlite3.Error) -> bool:
    """SQL the code got wrong (a bug), rather than a store that is damaged, locked,
    read-only or not a harness store (a missing table or column can be any SQLite file)."""
    return (isinstance(exc, sqlite3.ProgrammingError | sqlite3.InterfaceError)
            or "syntax error" in str(exc))


def _internal_error(exc: BaseException) -> None:
    """Print ``exc`` with its traceback (scrubbed, control characters made inert) and a
    request for a bug report (the caller exits 4)."""
    import traceback

    err.print(plain("".join(traceback.format_exception(exc)).rstrip()), markup=False,
              highlight=False)
    _error(f"internal error ({type(exc).__name__}): this is a bug in harness, not a problem "
           "with your input; please report it with the traceback above and the command "
           "you ran. Everything already stored is kept.")


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise _Exit(f"--limit must be at least 1 (the number of inputs to run), not {limit}",
                    EXIT_INPUT)


def _error(message: str) -> None:
    from rich.text import Text

    # a continuation line is indented: only the first line of a message starts "error:"
    lines = plain(message).split("\n")
    text = "\n".join(lines[:1] + [ln if ln[:1].isspace() else "  " + ln for ln in lines[1:]])
    err.print(Text("error: ", style="bold red") + Text(text))


def _log(message: str) -> None:
    err.print(plain(message), highlight=False, markup=False)


def _store(path: Path, readonly: bool = False):
    from harness.store.tables import Store

    return Store(path, readonly=readonly)


AllowPathOpt = typer.Option([], "--allow-path", metavar="DIR",
                            help="Let the suite read files under DIR too (default: only under "
                                 "its own folder).")
AllowEnvOpt = typer.Option([], "--allow-env", metavar="NAME",
                           help="Let server.api_key_env name NAME although it does not look "
                                "like a key variable.")


@app.command()
def validate(suite: Path = typer.Argument(..., help="Suite YAML file."),
             allow_path: list[Path] = AllowPathOpt, allow_env: list[str] = AllowEnvOpt
             ) -> None:
    """Check a suite without running a model."""
    from harness.suite.load import load_suite, plan_size
    from harness.suite.plan import plan

    with _errors():
        s = load_suite(suite, allow_path, allow_env)
        from harness.generate.runner import check_scorer

        check_scorer(s, s.backend)  # a scorer that cannot load here fails now, not after

        n = len(plan(s, backend="hf")) if not any(
            p.fewshot and p.fewshot.strategy == "similar" for p in s.prompts) else None
        judged = plan_size(s)[1]
        out.print(f"[green]ok[/green] {safe(suite)}: {len(s.prompts)} prompts, "
                  f"{len(s.inputs)} inputs, "
                  + (f"{n} requests" if n is not None else "similar-example selection at run")
                  + (f", up to {judged:,} judge calls" if s.judges else ""))


@app.command()
def run(
    suite: Path = typer.Argument(..., help="Suite YAML file."),
    store: Path = StoreOpt,
    backend: str = typer.Option(None, help="hf, vllm, openai or auto (default: the suite's)."),
    model: str = typer.Option(None, help="Model alias, directory or hub id (default: suite's)."),
    limit: int = typer.Option(None, help="Only the first N inputs (a quick smoke run)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Regenerate stored generations."),
    reports: Path = typer.Option(Path("reports"), help="Directory for the reports."),
    formats: str = typer.Option("md,json,html", "--format", help="Report formats to write."),
    batch_size: int = typer.Option(None, help="Rows decoded together on the hf backend "
                                              "(default: from memory, at most 128 on a CPU)."),
    dtype: str = typer.Option(None, help="hf weights: float32 or bfloat16 (faster; texts then "
                                         "depend on batch mates). Default: the suite's."),
    concurrency: int = typer.Option(None, help="Parallel requests on the openai backend."),
    ray: bool = typer.Option(False, "--ray", help="Generate on a Ray pool of engine replicas: "
                             "a local cluster (or $RAY_ADDRESS), or --ray-address."),
    ray_address: str = typer.Option(None, "--ray-address", metavar="ADDRESS",
                                    help="Join this Ray cluster ('auto', HOST:6379 or "
                                         "ray://HOST:10001); implies --ray."),
    replicas: int = typer.Option(None, min=1, help="Ray replicas (default: 1 per GPU, else 1"
                                                   " per CPU of the cluster)."),
    profile: bool = typer.Option(False, "--profile", help="Print where the time went (load, "
                                 "generation rate, each metric); always in the JSON report."),
    adaptive: bool = typer.Option(False, "--adaptive", help="Race the cells: draw inputs a "
                                  "round at a time and stop generating cells that are "
                                  "confidently beaten (the suite's adaptive: block, or its "
                                  "defaults; docs/statistics.md)."),
    allow_path: list[Path] = AllowPathOpt,
    allow_env: list[str] = AllowEnvOpt,
) -> None:
    """Run every combination of a suite, store it, score it and write reports."""
    from harness.generate.runner import run_suite
    from harness.suite.load import load_suite

    with _errors():
        _check_limit(limit)
        s = load_suite(suite, allow_path, allow_env)
        st = _store(store)
        with _progress() as progress:
            result = run_suite(s, st, backend=backend, model=model, limit=limit,
                               no_cache=no_cache, batch_size=batch_size,
                               concurrency=concurrency, progress=progress,
                               executor="ray" if ray or ray_address else None,
                               replicas=replicas, ray_address=ray_address,
                               dtype=dtype, adaptive=adaptive)
        _print_summary(result.summary)
        _print_quality(result.summary)
        if profile:
            _print_profile(result.summary["profile"])
        paths = _write(result.summary, reports, _formats(formats), result.generated > 0)
        judged = (f"; judges: {result.judge_asked} asked, "
                  f"{result.judge_calls - result.judge_asked} from the store"
                  if result.judge_calls else "")
        out.print(f"{result.generated} generated, {result.cached} from the store{judged}, "
                  f"{result.seconds:.1f} s · store {safe(store)} · run {safe(result.run.id)}")
        for p in paths:
            out.print(f"report: {safe(p)}")


def _write(summary: dict[str, Any], reports: Path, formats: tuple[str, ...],
           stamped: bool) -> list[Path]:
    from harness.report import write_reports

    try:
        return write_reports(summary, reports, formats, stamped=stamped)
    except OSError as exc:
        raise _Exit(f"cannot write the reports to {reports}: {exc.strerror or exc}; the run "
                    f"is stored: `harness report {summary['run']['id']} --format md -o FILE` "
                    "writes them elsewhere", EXIT_INPUT) from None


def _formats(text: str) -> tuple[str, ...]:
    from harness.report import FORMATS

    fmts = tuple(f.strip() for f in text.split(",") if f.strip())
    bad = [f for f in fmts if f not in FORMATS]
    if bad:
        raise _Exit(f"unknown report format {bad[0]!r}; expected {', '.join(FORMATS)}",
                    EXIT_INPUT)
    return fmts


@contextmanager
def _progress():
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from harness.generate.runner import Progress as Hooks

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=False)
    task: dict[str, Any] = {}

    def metric(name: str) -> None:
        """One line for all the metrics (a cached rerun scores 17 from the store in a
        blink); a terminal also shows the metric being computed, in place."""
        if "scoring" not in task:
            err.print("scoring...", highlight=False, style="dim")
            task["scoring"] = err.status(f"scoring {safe(name)}...")
            task["scoring"].start()
        else:
            task["scoring"].update(f"scoring {safe(name)}...")

    def start(todo: int, total: int) -> None:
        task["gen"] = bar.add_task("generating", total=todo)
        bar.start()

    def end() -> None:
        bar.stop()

    hooks = Hooks(log=_log,
                  start_generation=start,
                  advance=lambda n: bar.advance(task["gen"], n),
                  end_generation=end,
                  metric=metric)
    try:
        yield hooks
    finally:
        bar.stop()
        if "scoring" in task:
            task["scoring"].stop()


def _print_summary(summary: dict[str, Any]) -> None:
    """The cells table, laid out for the terminal's width (``harness.report.terminal``)."""
    from harness.report.terminal import cells_tables

    for part in cells_tables(summary, out.width):
        out.print(part)


def _print_quality(summary: dict[str, Any], human_only: bool = False) -> None:
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


def _print_profile(profile: dict[str, Any]) -> None:
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


@app.command()
def score(
    texts: Path = typer.Argument(
        ..., help='JSONL lines: {"text": ..., "group"?: ..., "reference"?: ...}'),
    metrics: str = typer.Option("distinct_1,distinct_2,self_bleu,compression_ratio,mean_length",
                                help="Comma-separated metric names (see `harness metrics`)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON only."),
    scorer: str = typer.Option(None, help="Model for perplexity, e.g. smollm2-135m (texts "
                                          "scored given their prompt, if any)."),
    sources: list[Path] = typer.Option([], "--source", help="Corpus file for overlap metrics."),
    embedder: str = typer.Option(None, help="Sentence-embedding model for the embedding "
                                 "metrics: all-minilm-l6-v2 (default, English-trained) or a "
                                 "local model directory, e.g. a multilingual one."),
) -> None:
    """Score any texts (e.g. a human baseline) with the same code path as `run`."""
    from harness.metrics.scoring import score_file

    with _errors():
        names = [m.strip() for m in metrics.split(",") if m.strip()]
        result = score_file(texts, names, scorer=scorer, sources=sources, embedder=embedder)
        if as_json:
            print(dumps(result, indent=2))
            return
        from harness.report.format import num

        table = Table(title=safe(texts), caption="– = the metric does not apply to any text "
                      "of the group (e.g. bleu without a reference)")
        table.add_column("group")
        for n in names:
            table.add_column(safe(n), justify="right")
        for group, values in result.items():
            table.add_row(safe(group), *[num(values.get(n)) for n in names])
        out.print(table)


@app.command("metrics")
def list_metrics() -> None:
    """List every metric with its kind, a one-line description and its source."""
    with _errors():  # loads the metric plugins
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


@app.command()
def runs(store: Path = StoreOpt,
         limit: int = typer.Option(20, help="How many (at least 1).")) -> None:
    """List the newest runs in the store: how many generations each made and how many it
    was served from the store (a cached rerun makes none)."""
    import time

    with _errors():
        if limit < 1:  # one line, as every other bad value (not click's usage box)
            raise _Exit(f"--limit must be at least 1 (the number of runs to list), not "
                        f"{limit}", EXIT_INPUT)
        table = Table(caption="generated: made by the run, of its requests; from store: "
                              "made by an earlier run and reused")
        for col in ("run", "suite", "model", "backend", "status", "generated", "from store",
                    "started"):
            table.add_column(col, no_wrap=col in ("run", "started"))
        st = _store(store, readonly=True)
        rows = st.runs(limit)
        made = st.generated_by([r.id for r in rows])
        for r in rows:
            table.add_row(*map(safe, (r.id, r.suite_name, r.model, r.backend, r.status)),
                          f"{made[r.id]}/{r.n_requests}", str(max(0, r.n_generated - made[r.id])),
                          time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started_at)))
        out.print(table)


def _summary_of(ref: str, store: Path) -> dict[str, Any]:
    """A run id / ``latest`` in the store, or a JSON report file."""
    from harness.api import summary

    return summary(ref, store=store)


@app.command()
def report(
    run_id: str = typer.Argument("latest", metavar="RUN", help="Run id (prefix) or `latest`."),
    fmt: str = typer.Option("md", "--format", help="md, html or json."),
    output: Path = typer.Option(None, "-o", "--output", help="File (default: stdout)."),
    store: Path = StoreOpt,
) -> None:
    """Render the report of a stored run."""
    from harness.report import render

    with _errors():
        text = render(_summary_of(run_id, store), _formats(fmt)[0])
        if output:
            output.write_text(text, encoding="utf-8")
            out.print(f"report: {safe(output)}")
        else:
            sys.stdout.write(text)


@app.command()
def export(
    run_id: str = typer.Argument("latest", metavar="RUN"),
    output: Path = typer.Option(None, "-o", "--output", help="JSONL file (default: stdout)."),
    store: Path = StoreOpt,
) -> None:
    """Export a run's items (plan, prompt, text) as JSONL."""
    with _errors():
        st = _store(store, readonly=True)
        lines = st.export_jsonl(st.run(run_id).id)
        if output:
            with open(output, "w", encoding="utf-8") as fh:
                for line in lines:
                    fh.write(line + "\n")
        else:
            for line in lines:
                print(line)


@app.command()
def baseline(
    run_id: str = typer.Argument("latest", metavar="RUN"),
    output: Path = typer.Option(..., "-o", "--output", help="Baseline JSON file to write."),
    store: Path = StoreOpt,
) -> None:
    """Write a run's summary (without samples) as a baseline for `harness check`."""
    from harness.summarize.build import build_summary

    with _errors():
        summary = build_summary(_store(store, readonly=True), run_id, samples=False)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        out.print(f"baseline of run {safe(summary['run']['id'])}: {safe(output)}")


@app.command()
def check(
    suite: Path = typer.Argument(..., help="Suite YAML file."),
    baseline_file: Path = typer.Option(None, "--baseline", help="Baseline JSON to compare to."),
    tolerance: float = typer.Option(0.1, help="Allowed worsening vs the baseline, as a share "
                                    "of the baseline's scale (the larger of |mean| and the SD "
                                    "over inputs); a row fails only when the data show more "
                                    "than this beyond noise (docs/statistics.md)."),
    metric: list[str] = typer.Option([], "--metric", help="Metrics judged against the "
                                     "baseline (default: the plot axes)."),
    allow_other_suite: bool = typer.Option(False, "--allow-other-suite", help="Judge a "
                                           "baseline written by another suite."),
    store: Path = StoreOpt,
    backend: str = typer.Option(None, help="hf, vllm, openai or auto."),
    limit: int = typer.Option(None, help="Only the first N inputs."),
    reports: Path = typer.Option(Path("reports"), help="Directory for the reports."),
    allow_path: list[Path] = AllowPathOpt,
    allow_env: list[str] = AllowEnvOpt,
) -> None:
    """Run a suite (reusing the store), evaluate its checks and the regression against a
    baseline; exit 1 when anything fails. Writes Markdown to $GITHUB_STEP_SUMMARY if set."""
    from harness.generate.runner import run_suite
    from harness.report.format import num
    from harness.report.markdown import render_markdown
    from harness.stats.gate import FAIL, NEW, PASS, gate
    from harness.suite.load import load_suite

    with _errors():
        _check_limit(limit)
        s = load_suite(suite, allow_path, allow_env)
        base = _load_json(baseline_file) if baseline_file else None
        with _progress() as progress:
            result = run_suite(s, _store(store), backend=backend, limit=limit,
                               progress=progress)
        judged = gate(result.summary, s.checks, base, metric, tolerance,
                      allow_other_suite=allow_other_suite)
        result.summary["checks"] = judged.rows
        _write(result.summary, reports, ("md", "json", "html"), result.generated > 0)
        rows = judged.rows
        table = Table(title=safe(f"checks of {s.name} (run {result.run.id})"),
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
            table.add_row(f"[{style[r['status']]}]{r['status']}[/]",
                          *[f(r) for f in cols.values()])
        out.print(table)
        for line in judged.notes:
            out.print(plain(line), highlight=False, markup=False)
        if os.environ.get("GITHUB_STEP_SUMMARY"):
            with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as fh:
                fh.write(render_markdown(result.summary, judged.rows) + "\n"
                         + "".join(f"- {line}\n" for line in judged.notes))
        out.print(judged.count_line())
        if judged.failed:
            raise typer.Exit(EXIT_CHECKS)


def _load_json(path: Path) -> dict[str, Any]:
    from harness.api import load_report

    return load_report(path)


@app.command()
def compare(
    run_a: str = typer.Argument(..., metavar="A", help="Run id, `latest` or a JSON report."),
    run_b: str = typer.Argument(None, metavar="[B]", help="Run id, `latest` or a JSON report; "
                                "without it, cells of A are compared with each other."),
    by: str = typer.Option("variant", help="Within one run: `variant` (each variant vs the "
                           "reference at every grid point) or `grid` (each grid point vs the "
                           "reference for every variant)."),
    reference: str = typer.Option(None, help="Within one run: the variant (or grid point, "
                                  "e.g. temperature=0.7) the others are compared with "
                                  "(default: the first)."),
    fmt: str = typer.Option("table", "--format", help="table, md, html or json."),
    output: Path = typer.Option(None, "-o", "--output", help="File (default: stdout)."),
    show_all: bool = typer.Option(False, "--all", help="Also show metrics that are the same "
                                  "everywhere and bookkeeping ones (scored_tokens)."),
    store: Path = StoreOpt,
) -> None:
    """Paired comparison: B − A per cell and metric over shared inputs, its 95% interval,
    and a p-value adjusted across all rows (Benjamini–Hochberg). With one run, compares
    its variants (or grid points) with each other."""
    from harness.report.compare import (
        COMPARE_FORMATS,
        HEADERS,
        render_compare,
        summary_line,
        verdict,
    )
    from harness.report.format import ci, p_value
    from harness.stats.comparisons import compare_runs, compare_within

    with _errors():
        sa = _summary_of(run_a, store)
        if run_b is None:
            if by not in ("variant", "grid"):
                raise _Exit(f"--by must be variant or grid, not {by!r}", EXIT_INPUT)
            result = compare_within(sa, by=by, reference=reference, show_all=show_all)
        else:
            result = compare_runs(sa, _summary_of(run_b, store), show_all=show_all)
        title = _compare_title(result)
        if fmt in COMPARE_FORMATS:
            text = render_compare(result, title, fmt)
            if output:
                output.write_text(text, encoding="utf-8")
                out.print(f"comparison: {safe(output)}")
            else:
                sys.stdout.write(text)
            return
        if fmt != "table":
            raise _Exit(f"unknown format {fmt!r}; expected table, {', '.join(COMPARE_FORMATS)}",
                        EXIT_INPUT)
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
        out.print(plain(summary_line(result)), highlight=False, markup=False)


def _compare_title(result: dict[str, Any]) -> str:
    if result["kind"] == "runs":
        return f"B − A: run {result['b']} (B) vs run {result['a']} (A)"
    return f"each {result['kind']} (B) vs {result['kind']} {result['reference']} (A)"


rate_app = typer.Typer(no_args_is_help=True,
                       help="Blinded human ratings: export a sheet, import it filled in "
                            "(docs/ratings.md).")
app.add_typer(rate_app, name="rate")


@rate_app.command("export")
def rate_export(
    run_id: str = typer.Argument("latest", metavar="RUN", help="Run id (prefix) or `latest`."),
    pairs: bool = typer.Option(False, "--pairs", help="Pairwise sheet: two variants' texts "
                               "for the same input side by side, answer A, B or tie."),
    per_cell: int = typer.Option(None, "--per-cell", min=1, help="Only N samples (or pairs) "
                                 "per cell, spread over inputs (default: all)."),
    scale: str = typer.Option("1-5", "--scale", help="Rating scale LOW-HIGH."),
    seed: int = typer.Option(0, "--seed", help="Another seed gives another order, other "
                             "sides and item ids (a new sheet)."),
    output: Path = typer.Option(None, "--out", help="Path without suffix for the .csv and "
                                ".jsonl (default: ratings/<suite>-<sheet id>)."),
    store: Path = StoreOpt,
) -> None:
    """Write a blinded sheet of a run's texts (CSV and JSONL) for people to rate.

    Which variant and cell each item is stays in the store, not in the files."""
    from harness.humans.sheets import export_sheet, parse_scale, write_sheet

    with _errors():
        _store(store, readonly=True).close()  # a missing store is an error, not created
        st = _store(store)
        sheet = export_sheet(st, run_id, kind="pairwise" if pairs else "rating",
                             per_cell=per_cell, scale=parse_scale(scale), seed=seed)
        suite = st.run(sheet.run_id).suite_name
        try:
            paths = write_sheet(sheet, output or Path("ratings") / f"{suite}-{sheet.id}")
        except OSError as exc:
            raise _Exit(f"cannot write the sheet: {exc}", EXIT_INPUT) from None
        what = (f"{len(sheet.rows)} pairs (A, B or tie)" if pairs else
                f"{len(sheet.rows)} texts (rated {scale.strip()})")
        for note in sheet.notes:
            _log(f"note: {note}")
        out.print(f"sheet {safe(sheet.id)} of run {safe(sheet.run_id)}: {safe(what)}"
                  + ("" if sheet.created else " (exported before: same items and key)"))
        for p in paths:
            out.print(f"wrote {safe(p)}")
        out.print(f"the key (which variant and cell each item is) is kept in the store "
                  f"{safe(store)}, not in the files; fill in 'rating' and 'rater', then "
                  f"`harness rate import FILE`")


@rate_app.command("import")
def rate_import(
    file: Path = typer.Argument(..., help="A filled sheet (.csv or .jsonl)."),
    rater: str = typer.Option(None, "--rater", help="Rater name for rows whose rater cell "
                              "is empty."),
    store: Path = StoreOpt,
) -> None:
    """Read a filled sheet (CSV or JSONL) back into the store.

    Every bad row is reported and nothing is stored unless all rows are good (exit 2).
    Importing a file again changes nothing."""
    from harness.humans.sheets import import_ratings

    with _errors():
        _store(store, readonly=True).close()  # a missing store is an error, not created
        st = _store(store)
        result = import_ratings(st, file, rater=rater)
        n_raters = len(result.raters)
        out.print(safe(f"imported {result.n_ratings} ratings from {n_raters} "
                       f"rater{'s' if n_raters != 1 else ''} ({', '.join(result.raters)}) "
                       f"for run {', '.join(result.runs)} (sheet {', '.join(result.sheets)})"
                       f": {result.new} new, {result.changed} changed, {result.unchanged} "
                       "unchanged" + (f"; {result.blank} rows left blank" if result.blank
                                      else "")))
        from harness.summarize.build import build_summary

        for run_id in result.runs:
            _print_quality(build_summary(st, run_id, samples=False), human_only=True)


def main() -> None:
    """Entry point of the ``harness`` console script. Errors raised outside a command's
    ``_errors`` block (a metric plugin failing as a command imports the library) get the
    same treatment: a plugin that fails to load is exit 2, anything else exit 4."""
    from harness.plugins import PluginError

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        app()
    except PluginError as exc:
        _error(str(exc))
        sys.exit(EXIT_INPUT)
    except Exception as exc:  # noqa: BLE001 - a bug: reported as one
        _internal_error(exc)
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":
    main()
