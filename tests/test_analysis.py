"""Direction-aware summaries: Pareto frontier, ties and degenerate cells."""

import pytest

from harness.summarize.cells import summary_from_inputs
from harness.summarize.pareto import best_cells, pareto_frontier


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
    from harness.stats.comparisons import compare_runs

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
    from harness.stats.gate import GateError, run_checks

    vals = {"a|t=1": {"length_chars": {f"i{j}": 100.0 + j for j in range(4)},
                      "perplexity": {f"i{j}": 5.0 + 0.1 * j for j in range(4)}}}
    s = summary_from_inputs(vals, "a", samples_per_input=3)
    s["pareto"].update(x="length_chars", y="perplexity")  # as suites/blog.yaml plots
    rows = run_checks(s, [], s)
    assert [r["check"].split()[0] for r in rows] == ["perplexity"]
    s["pareto"].update(y=None)
    with pytest.raises(GateError, match="no better direction"):
        run_checks(s, [], s)


def test_word_salad_cells_leave_the_frontier_and_a_crowded_frontier_says_so():
    """The poetry run's shape: temperature 1.3 is the most diverse and its perplexity is
    over 10x the run's median cell, so it is word salad, not a trade-off; the remaining
    cells are all on the frontier or within noise of it, which the report says, with the
    inputs a paired test would need."""
    from harness.report.markdown import pareto_lines
    from harness.summarize.pareto import pareto_section

    vals = {}
    for v, shift in (("plain", 0.0), ("form", 0.01)):
        for t, (d2, ppl) in {0.3: (0.42, 2.2), 0.7: (0.78, 4.0), 1.0: (0.95, 19.0),
                             1.3: (0.998, 515.0)}.items():
            # input-level noise as large as the gaps: the run cannot tell cells apart
            vals[f"{v}|temperature={t:g}"] = {
                "distinct_2": {f"i{j}": d2 + shift + 0.05 * (-1) ** j for j in range(4)},
                "perplexity": {f"i{j}": ppl * (1 + shift + 0.3 * (-1) ** (j // 2))
                               for j in range(4)}}
    s = summary_from_inputs(vals)
    p = pareto_section(s["cells"], "distinct_2", "perplexity")
    assert set(p["excluded"]) == {"plain|temperature=1.3", "form|temperature=1.3"}
    assert "word salad" in p["excluded"]["form|temperature=1.3"]
    assert not set(p["cells"]) & set(p["excluded"])
    und = p["undecided"]
    assert und is not None and und["close"] == und["of"] == 6 and und["n_inputs"] == 4
    assert und["inputs_needed"] is None or und["inputs_needed"] > 4
    text = " ".join(pareto_lines({**s, "pareto": p}))
    assert "cannot separate its cells: 6 of 6" in text and "word salad" in text


def test_a_frontier_needs_a_creativity_and_a_coherence_axis():
    from harness.summarize.pareto import axes_note, pareto_section

    s = _summary({"a|t=1": {"distinct_2": 0.5, "constraint_pass": 1.0, "relevance": 0.2,
                            "persona_consistency": 0.1},
                  "b|t=1": {"distinct_2": 0.6, "constraint_pass": 0.5, "relevance": 0.3,
                            "persona_consistency": 0.3}})
    assert axes_note("distinct_2", "perplexity") is None
    assert axes_note("self_bleu", "judge.coherence") is None
    note = axes_note("distinct_2", "constraint_pass")
    assert note and "y = constraint_pass is neither" in note
    note = axes_note("persona_consistency", "relevance")
    assert note and "x = persona_consistency is a coherence metric" in note
    p = pareto_section(s["cells"], "persona_consistency", "relevance")
    assert p["cells"] == [] and p["note"] == note
    assert pareto_section(s["cells"], "distinct_2", "relevance")["cells"] == ["b|t=1"]


def test_truncated_samples_are_counted_per_cell():
    from harness.summarize.cells import summarize

    items = [{"key": f"k{i}", "variant": "v", "input_id": f"i{i % 2}", "cell": "v|t=1",
              "grid": {"t": 1}, "finish_reason": "length" if i < 3 else "stop"}
             for i in range(4)]
    items += [{"key": "old", "variant": "w", "input_id": "i0", "cell": "w|t=1",
               "grid": {"t": 1}}]
    s = summarize({"id": "r"}, items, {k["key"]: {"length_words": 5.0} for k in items}, {})
    by = {c["cell"]: c for c in s["cells"]}
    assert by["v|t=1"]["truncated"] == 3 and by["w|t=1"]["truncated"] is None


def test_constraint_pass_is_absent_for_a_variant_without_constraints(tmp_path, fake_backend):
    from harness.generate.runner import run_suite
    from harness.store.tables import Store
    from harness.suite.load import load_suite

    path = tmp_path / "c.yaml"
    path.write_text("""\
name: c
model: smollm2-135m
backend: hf
samples: 2
defaults: {max_tokens: 8}
prompts:
  - {id: free, template: "Write about {{ topic }}."}
  - {id: short, template: "Write briefly about {{ topic }}.", constraints: {max_words: 3}}
inputs: [{id: a, topic: rain}, {id: b, topic: sun}]
metrics: [constraint_pass, length_words]
""", encoding="utf-8")
    summary = run_suite(load_suite(path), Store(tmp_path / "s.sqlite")).summary
    by = {c["variant"]: c["metrics"] for c in summary["cells"]}
    assert "constraint_pass" not in by["free"] and "length_words" in by["free"]
    assert 0.0 <= by["short"]["constraint_pass"]["mean"] <= 1.0
