"""``harness rate``: blinded human ratings, a sheet exported for people to fill in and read
back into the store (docs/ratings.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.errors import Exit, errors
from harness.cli.options import StoreOpt, open_store
from harness.cli.terminal import log, out, print_quality
from harness.text import safe

rate_app = typer.Typer(no_args_is_help=True,
                       help="Blinded human ratings: export a sheet, import it filled in "
                            "(docs/ratings.md).")


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

    with errors():
        open_store(store, readonly=True).close()  # a missing store is an error, not created
        st = open_store(store)
        sheet = export_sheet(st, run_id, kind="pairwise" if pairs else "rating",
                             per_cell=per_cell, scale=parse_scale(scale), seed=seed)
        suite = st.run(sheet.run_id).suite_name
        try:
            paths = write_sheet(sheet, output or Path("ratings") / f"{suite}-{sheet.id}")
        except OSError as exc:
            raise Exit(f"cannot write the sheet: {exc}") from None
        what = (f"{len(sheet.rows)} pairs (A, B or tie)" if pairs else
                f"{len(sheet.rows)} texts (rated {scale.strip()})")
        for note in sheet.notes:
            log(f"note: {note}")
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
    from harness.humans.reading import import_ratings

    with errors():
        open_store(store, readonly=True).close()  # a missing store is an error, not created
        st = open_store(store)
        result = import_ratings(st, file, rater=rater)
        n_raters = len(result.raters)
        out.print(safe(f"imported {result.n_ratings} ratings from {n_raters} "
                       f"rater{'s' if n_raters != 1 else ''} ({', '.join(result.raters)}) "
                       f"for run {', '.join(result.runs)} (sheet {', '.join(result.sheets)})"
                       f": {result.new} new, {result.changed} changed, {result.unchanged} "
                       "unchanged" + (f"; {result.blank} rows left blank" if result.blank
                                      else "")))
        from harness.summarize.stored import keep

        for run_id in result.runs:  # new ratings change the run's summary: build it again
            print_quality(keep(st, run_id).as_json(), human_only=True)
