"""The cells table in a terminal: at 80 and 100 columns (and piped, 1000) every cell id,
metric name and number is printed whole, no line is wider than the terminal, and the
metrics left out are named."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console

from harness.report.format import truncated_share, value_ci
from harness.report.markdown import key_metrics
from harness.report.terminal import cells_tables

METRICS = ("distinct_2", "perplexity", "degenerate", "distinct_1", "self_bleu",
           "embedding_diversity", "max_verbatim_span", "relevance", "length_words")


def poetry_like() -> dict[str, Any]:
    """16 cells as the poetry suite makes them, with intervals as wide as its real ones
    (perplexity in the thousands, small shares, negative bounds)."""
    cells = []
    for v in ("plain", "persona", "fewshot", "form"):
        for t in (0.3, 0.7, 1.0, 1.3):
            metrics = {}
            for j, m in enumerate(METRICS):
                mean = {"perplexity": 3.2 * 10 ** (t * 2.5), "degenerate": 0.0009 * j,
                        "relevance": -0.0123 + t}.get(m, 0.123456 * (j + 1) * t)
                metrics[m] = {"mean": mean, "lo": mean * 0.71 - 0.01, "hi": mean * 1.37 + 0.01,
                              "n": 12, "n_inputs": 4, "method": "t over inputs",
                              "inputs": {}}
            cells.append({"cell": f"{v}|temperature={t:g}", "variant": v,
                          "grid": {"temperature": t}, "n": 12, "n_inputs": 4,
                          "truncated": int(12 * t / 1.3), "metrics": metrics})
    described = {m: {"kind": "set", "higher_is": None, "description": "", "source": ""}
                 for m in METRICS}
    return {"run": {"id": "20261206-051323-88df", "suite": "poetry"}, "metrics": described,
            "cells": cells,
            "pareto": {"x": "distinct_2", "y": "perplexity",
                       "cells": [c["cell"] for c in cells[::3]], "within_noise": [],
                       "excluded": {}, "note": None, "undecided": None}}


def render(summary: dict[str, Any], width: int) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    for part in cells_tables(summary, console.width):
        console.print(part)
    return console.file.getvalue()  # type: ignore[attr-defined]


@pytest.mark.parametrize("width", [80, 100, 1000])
def test_every_id_header_and_number_is_whole_at_any_width(width: int) -> None:
    summary = poetry_like()
    text = render(summary, width)
    lines = text.splitlines()
    assert max(cell_len(line) for line in lines) <= width
    assert "…" not in text
    shown = key_metrics(summary)[:6]
    for cell in summary["cells"]:
        assert cell["cell"] in text
        assert truncated_share(cell) in text
        for m in shown:
            value = value_ci(cell["metrics"][m], bound_digits=2)
            assert value in text, (m, value)
            assert "e+0" not in value  # 1867, not 1.87e+03
    for m in shown:
        assert any("┃" in line and f" {m} " in line for line in lines), m  # a header, whole
    # the metrics past the first six are named, with where to read them
    assert "3 more metrics" in text
    assert all(m in text for m in key_metrics(summary)[6:])
    assert "harness report 20261206-051323-88df" in text


def test_narrow_terminals_split_the_metrics_into_blocks() -> None:
    summary = poetry_like()
    assert "(1/" not in render(summary, 1000)  # one table when piped
    narrow = render(summary, 80)
    assert "(1/" in narrow and "(2/" in narrow
    # each block repeats the cell ids, so a row is readable without the block above
    assert narrow.count("fewshot|temperature=0.7") >= 2


def test_a_width_too_small_for_any_table_lists_each_cell() -> None:
    summary = poetry_like()
    for c in summary["cells"]:
        c["cell"] = c["cell"] + "|a_long_grid_axis_name=some_long_value,another=1"
    text = render(summary, 60)
    assert "…" not in text
    assert "  perplexity: " + value_ci(summary["cells"][0]["metrics"]["perplexity"], 2) in text


def test_a_metric_that_does_not_apply_is_a_dash_not_a_number() -> None:
    summary = poetry_like()
    del summary["cells"][0]["metrics"]["perplexity"]
    row = next(line for line in render(summary, 1000).splitlines()
               if "plain|temperature=0.3" in line)
    assert "–" in row
