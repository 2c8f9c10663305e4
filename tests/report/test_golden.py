"""The reports of a fixed stored run, in every format, against committed files: a change
to what a report says shows up here, and must be deliberate (issue 23: the summary and
the renderers will be reorganised; the same files must come out).

The run is the first of ``tests/data/store_v3.sqlite`` (2 prompts × 3 inputs × 2 samples,
rated by two people). Numbers are compared at 6 significant digits: the statistics behind
them are float arithmetic that may round the last bits differently on another CPU.

To accept a deliberate change: ``python -m tests.report.test_golden`` rewrites the files in
``tests/data/golden/``; review the diff before committing it.
"""

from __future__ import annotations

import io
import re
import shutil
import sys
from pathlib import Path

from tests.conftest import ROOT

DATA = ROOT / "tests" / "data"
GOLDEN = DATA / "golden"
FORMATS = ("md", "html", "json", "txt")
_LONG_FLOAT = re.compile(r"-?\d+\.\d{6,}(?:[eE][-+]?\d+)?")


def render_all(tmp: Path) -> dict[str, str]:
    """The first run of a copy of store_v3, rendered as Markdown, HTML, JSON and the
    terminal's cells table (100 columns)."""
    from rich.console import Console

    from harness.jsonout import dumps
    from harness.report.html import render_html
    from harness.report.markdown import render_markdown
    from harness.report.terminal import cells_tables
    from harness.store.tables import Store
    from harness.summarize.build import build_summary

    shutil.copy(DATA / "store_v3.sqlite", tmp / "s.sqlite")
    store = Store(tmp / "s.sqlite", readonly=True)
    first = store.runs(100)[-1]
    summary = build_summary(store, first.id)
    console = Console(width=100, record=True, color_system=None, file=io.StringIO())
    for part in cells_tables(summary, 100):
        console.print(part)
    return {"md": render_markdown(summary), "html": render_html(summary),
            "json": dumps(summary), "txt": console.export_text()}


def normalise(text: str) -> str:
    """Every float written with 6 or more decimals, at 6 significant digits."""
    return _LONG_FLOAT.sub(lambda m: format(float(m.group()), ".6g"), text)


def test_reports_of_a_stored_run_are_the_committed_ones(tmp_path):
    rendered = render_all(tmp_path)
    for fmt in FORMATS:
        want = (GOLDEN / f"store_v3.{fmt}").read_text(encoding="utf-8")
        got = rendered[fmt]
        if normalise(got) != normalise(want):
            lines = [(i, a, b) for i, (a, b) in enumerate(zip(normalise(got).splitlines(),
                                                               normalise(want).splitlines(),
                                                               strict=False)) if a != b]
            first = lines[0] if lines else ("(length)", "", "")
            raise AssertionError(
                f"the {fmt} report of store_v3's first run changed (line {first[0]}):\n"
                f"  now:       {first[1][:300]}\n  committed: {first[2][:300]}\n"
                "If the change is deliberate, run `python -m tests.report.test_golden` and "
                "review the diff of tests/data/golden/.")


if __name__ == "__main__":  # rewrite the committed files
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for fmt, text in render_all(Path(tmp)).items():
            (GOLDEN / f"store_v3.{fmt}").write_text(text, encoding="utf-8")
            print(f"wrote tests/data/golden/store_v3.{fmt}", file=sys.stderr)
