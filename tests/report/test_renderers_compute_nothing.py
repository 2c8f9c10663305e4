"""Renderers lay out a summary and compute nothing (issue 23): with every statistics and
comparison function of the library replaced by one that raises, a summary built by the
library still renders in every format, and shows the numbers it holds."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from tests.report.test_html import make_summary


def _forbid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace every public function of ``harness.stats.intervals`` and
    ``harness.stats.comparisons``, and
    the cell statistics of ``harness.summarize.cells``, wherever they are reachable: in their
    modules and under any name a renderer module imported them as."""
    import sys

    import harness.report.html
    import harness.report.markdown
    import harness.report.terminal
    import harness.stats.comparisons
    import harness.stats.intervals
    import harness.summarize.cells

    def boom(*args, **kwargs):
        raise AssertionError("a renderer computed a statistic")

    banned = {}
    for module in (harness.stats.intervals, harness.stats.comparisons):
        for name, obj in vars(module).items():
            if callable(obj) and not isinstance(obj, type) and not name.startswith("_") \
                    and getattr(obj, "__module__", "") == module.__name__:
                banned[id(obj)] = (module, name)
    for name in ("best_cells", "best_by_grid", "summarize", "mostly_degenerate"):
        banned[id(getattr(harness.summarize.cells, name))] = (harness.summarize.cells, name)
    renderers = [m for n, m in sys.modules.items() if n.startswith("harness.report")]
    for module, name in banned.values():
        monkeypatch.setattr(module, name, boom)
    for module in renderers:
        for name, obj in list(vars(module).items()):
            if id(obj) in banned:
                monkeypatch.setattr(module, name, boom)
    assert len(banned) > 10


def test_every_format_renders_a_stored_summary_without_computing(monkeypatch):
    from harness.report import compare as compare_report
    from harness.report.html import render_html
    from harness.report.markdown import render_markdown
    from harness.report.terminal import cells_tables

    summary = make_summary()  # built with the library (add_derived), before the ban
    comparisons = summary["comparisons"]
    assert comparisons["rows"] and summary["best"]
    _forbid(monkeypatch)
    md = render_markdown(summary)
    html = render_html(summary)
    text = json.dumps(summary, default=str)
    console = Console(width=100, record=True, color_system=None)
    for part in cells_tables(summary, 100):
        console.print(part)
    shown = console.export_text()
    counted = f"{comparisons['significant']} of {comparisons['tested']} tested rows differ"
    assert compare_report.summary_line(comparisons).startswith(counted)
    assert counted in md and counted in html  # the stored comparison rows
    assert 'class="num best"' in html and 'id="all-comparisons"' in html
    assert "distinct_2" in shown and "plain" in shown and '"comparisons"' in text
