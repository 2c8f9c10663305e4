"""Direction-aware summaries: Pareto frontier, ties and degenerate cells."""

import pytest

from harness.analysis import best_cells, pareto_frontier, summary_from_inputs


def _summary(values):
    return summary_from_inputs({cell: {m: {f"i{j}": v + 0.001 * j for j in range(4)}
                                       for m, v in metrics.items()}
                                for cell, metrics in values.items()})


def test_a_cell_of_mostly_empty_replies_cannot_win_on_diversity():
    s = _summary({
        "talk|t=1": {"distinct_2": 0.6, "perplexity": 10.0, "degenerate": 0.0},
        "empty|t=1": {"distinct_2": 1.0, "perplexity": 5.0, "degenerate": 0.75},
        "loop|t=1": {"distinct_2": 0.2, "perplexity": 2.0, "degenerate": 0.0}})
    assert pareto_frontier(s["cells"], "distinct_2", "perplexity") == ["talk|t=1", "loop|t=1"]
    by = {c["cell"]: c["metrics"]["distinct_2"] for c in s["cells"]}
    assert best_cells(by, "distinct_2")[0] == {"empty|t=1"}
    assert best_cells(by, "distinct_2", {"empty|t=1"}) == ({"talk|t=1"}, True)


def test_overlapping_intervals_are_ties():
    s = _summary({"a|t=1": {"distinct_2": 0.50}, "b|t=1": {"distinct_2": 0.503},
                  "c|t=1": {"distinct_2": 0.9}})
    by = {c["cell"]: c["metrics"]["distinct_2"] for c in s["cells"]}
    assert best_cells(by, "distinct_2") == ({"c|t=1"}, True)
    del by["c|t=1"]
    assert best_cells(by, "distinct_2") == ({"a|t=1", "b|t=1"}, False)


def test_comparing_set_metrics_of_different_set_sizes_is_flagged():
    from harness.comparisons import compare_runs

    vals = {"a|t=1": {"distinct_2": {f"i{j}": 0.8 + 0.01 * j for j in range(4)},
                      "length_words": {f"i{j}": 10.0 + j for j in range(4)}}}
    a = summary_from_inputs(vals, "a", samples_per_input=4)
    b = summary_from_inputs(vals, "b", samples_per_input=8)
    rows = {r["metric"]: r for r in compare_runs(a, b)["rows"]}
    assert "set sizes differ (4 vs 8" in rows["distinct_2"]["note"]
    assert rows["length_words"]["note"] == ""  # a per-sample metric does not move with n


def test_missing_plot_axis_is_named_not_printed_as_none():
    from harness.report.markdown import pareto_note, render_markdown

    s = _summary({"a|t=1": {"distinct_2": 0.5}})
    s["pareto"] = {"x": "distinct_2", "y": None, "cells": []}
    s["run"] = {"id": "r", "suite": "s", "model": "m", "backend": "hf", "n_requests": 4,
                "harness_version": "0"}
    assert "no coherence metric" in pareto_note(s) and "None" not in pareto_note(s)
    s["pareto"]["x"] = None
    assert "no diversity and coherence metric" in pareto_note(s)
    md = render_markdown(s)
    assert "None" not in md and "No Pareto frontier" in md


def test_gate_judges_only_plot_axes_that_have_a_direction():
    from harness.checks import GateError, run_checks

    vals = {"a|t=1": {"length_chars": {f"i{j}": 100.0 + j for j in range(4)},
                      "perplexity": {f"i{j}": 5.0 + 0.1 * j for j in range(4)}}}
    s = summary_from_inputs(vals, "a", samples_per_input=3)
    s["pareto"].update(x="length_chars", y="perplexity")  # as suites/blog.yaml plots
    rows = run_checks(s, [], s)
    assert [r["check"].split()[0] for r in rows] == ["perplexity"]
    s["pareto"].update(y=None)
    with pytest.raises(GateError, match="no better direction"):
        run_checks(s, [], s)
