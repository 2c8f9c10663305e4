"""The ``harness`` command: a thin layer that parses, calls the library (``harness.api``)
and prints (``harness.cli.terminal``); ``harness.cli.errors`` turns errors into exit codes.

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
import sys
from pathlib import Path
from typing import Any

import typer

from harness.cli.errors import (
    EXIT_CHECKS,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_RUN,
    Exit,
    internal_error,
)
from harness.cli.errors import errors as _errors
from harness.cli.options import AllowEnvOpt, AllowPathOpt, StoreOpt, at_least_one, open_store
from harness.cli.progress import progress as _progress
from harness.cli.rate import rate_app
from harness.cli.terminal import error, out, print_quality
from harness.jsonout import dumps
from harness.text import safe

__all__ = ["EXIT_CHECKS", "EXIT_INPUT", "EXIT_INTERNAL", "EXIT_INTERRUPTED", "EXIT_RUN", "app",
           "main"]


def _flag_type(self: Any, ctx: Any) -> str | None:
    """A flag takes no value: typer 0.29's help would print ``--json <bool>``."""
    return None if self.is_flag else _option_type(self, ctx)


_option_type = typer.core.TyperOption.display_type_rich
typer.core.TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Prompt-engineering experiments: run suites, score texts, compare runs.")



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
    from harness import api
    from harness.cli.terminal import print_profile, print_summary

    with _errors():
        at_least_one(limit=limit, batch_size=batch_size, concurrency=concurrency)
        s = api.load_suite(suite, allow_path, allow_env)
        with _progress() as hooks:
            result = api.run(s, store=store, backend=backend, model=model, limit=limit,
                             no_cache=no_cache, batch_size=batch_size,
                             concurrency=concurrency, progress=hooks,
                             executor="ray" if ray or ray_address else None,
                             replicas=replicas, ray_address=ray_address,
                             dtype=dtype, adaptive=adaptive)
        print_summary(result.summary)
        print_quality(result.summary)
        if profile:
            print_profile(result.summary["profile"])
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
        raise Exit(f"cannot write the reports to {reports}: {exc.strerror or exc}; the run "
                   f"is stored: `harness report {summary['run']['id']} --format md -o FILE` "
                   "writes them elsewhere") from None


def _formats(text: str) -> tuple[str, ...]:
    from harness.report import FORMATS

    fmts = tuple(f.strip() for f in text.split(",") if f.strip())
    bad = [f for f in fmts if f not in FORMATS]
    if bad:
        raise Exit(f"unknown report format {bad[0]!r}; expected {', '.join(FORMATS)}")
    return fmts


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
        from harness.cli.terminal import print_scores

        print_scores(str(texts), result, names)


@app.command("metrics")
def list_metrics() -> None:
    """List every metric with its kind, a one-line description and its source."""
    from harness.cli.terminal import print_metrics

    with _errors():  # loads the metric plugins
        print_metrics()


@app.command()
def runs(store: Path = StoreOpt,
         limit: int = typer.Option(20, help="How many (at least 1).")) -> None:
    """List the newest runs in the store: how many generations each made and how many it
    was served from the store (a cached rerun makes none)."""
    from harness.cli.terminal import print_runs

    with _errors():
        if limit < 1:  # one line, as every other bad value (not click's usage box)
            raise Exit(f"--limit must be at least 1 (the number of runs to list), not {limit}")
        st = open_store(store, readonly=True)
        rows = st.runs(limit)
        print_runs(rows, st.generated_by([r.id for r in rows]))


@app.command()
def report(
    run_id: str = typer.Argument("latest", metavar="RUN", help="Run id (prefix) or `latest`."),
    fmt: str = typer.Option("md", "--format", help="md, html or json."),
    output: Path = typer.Option(None, "-o", "--output", help="File (default: stdout)."),
    store: Path = StoreOpt,
) -> None:
    """Render the report of a stored run."""
    from harness.api import summary
    from harness.report import render

    with _errors():
        text = render(summary(run_id, store=store), _formats(fmt)[0])
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
        st = open_store(store, readonly=True)
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
    from harness.summarize.stored import summary_of

    with _errors():
        summary = summary_of(open_store(store, readonly=True), run_id, samples=False).as_json()
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
    from harness import api
    from harness.cli.terminal import print_checks

    with _errors():
        at_least_one(limit=limit)
        s = api.load_suite(suite, allow_path, allow_env)
        with _progress() as hooks:
            result = api.check(s, baseline_file, store=store, metrics=metric,
                               tolerance=tolerance, allow_other_suite=allow_other_suite,
                               backend=backend, limit=limit, progress=hooks)
        generated = result.run is not None and result.run.generated > 0
        _write(result.summary, reports, ("md", "json", "html"), generated)
        print_checks(result, s.name)
        if os.environ.get("GITHUB_STEP_SUMMARY"):
            with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as fh:
                fh.write(result.markdown())
        out.print(result.count_line())
        if not result.passed:
            raise typer.Exit(EXIT_CHECKS)


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
    from harness import api
    from harness.cli.terminal import print_comparison
    from harness.report.compare import COMPARE_FORMATS, render_compare

    with _errors():
        if by not in ("variant", "grid"):
            raise Exit(f"--by must be variant or grid, not {by!r}")
        if fmt not in (*COMPARE_FORMATS, "table"):
            raise Exit(f"unknown format {fmt!r}; expected table, {', '.join(COMPARE_FORMATS)}")
        result = api.compare(run_a, run_b, store=store, by=by, reference=reference,
                             show_all=show_all)
        if fmt == "table":
            print_comparison(result, _compare_title(result))
        elif output:
            output.write_text(render_compare(result, _compare_title(result), fmt),
                              encoding="utf-8")
            out.print(f"comparison: {safe(output)}")
        else:
            sys.stdout.write(render_compare(result, _compare_title(result), fmt))


def _compare_title(result: dict[str, Any]) -> str:
    if result["kind"] == "runs":
        return f"B − A: run {result['b']} (B) vs run {result['a']} (A)"
    return f"each {result['kind']} (B) vs {result['kind']} {result['reference']} (A)"


app.add_typer(rate_app, name="rate")


def main() -> None:
    """Entry point of the ``harness`` console script. Errors raised outside a command's
    ``_errors`` block (a metric plugin failing as a command imports the library) get the
    same treatment: a plugin that fails to load is exit 2, anything else exit 4."""
    from harness.plugins import PluginError

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        app()
    except PluginError as exc:
        error(str(exc))
        sys.exit(EXIT_INPUT)
    except Exception as exc:  # noqa: BLE001 - a bug: reported as one
        internal_error(exc)
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":
    main()
