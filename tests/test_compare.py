"""Run-vs-run comparison and check evaluation on fake-backend runs (plumbing only; the
real-model gate is in test_gate.py)."""

import json

from typer.testing import CliRunner

from harness.analysis import compare, evaluate_checks
from harness.cli import app
from harness.runner import build_summary, cell_values, run_suite
from harness.store import Store
from harness.suite import Check, load_suite


def _two_runs(tiny_suite, tmp_path):
    store = Store(tmp_path / "s.sqlite")
    a = run_suite(load_suite(tiny_suite), store)
    tiny_suite.write_text(tiny_suite.read_text().replace("max_tokens: 12", "max_tokens: 40"))
    b = run_suite(load_suite(tiny_suite), store)
    return store, a.run.id, b.run.id


def test_compare_differences_and_significance(tiny_suite, tmp_path, fake_backend):
    store, a, b = _two_runs(tiny_suite, tmp_path)
    sa, sb = build_summary(store, a), build_summary(store, b)
    result = compare(sa, sb, cell_values(store, a), cell_values(store, b))
    assert result["only_a"] == result["only_b"] == []
    rows = {(r["cell"], r["metric"]): r for r in result["rows"]}
    r = rows[("plain|temperature=0.7", "length_words")]
    assert r["diff"] == r["b"] - r["a"] > 0  # 40-token texts are longer than 12-token ones
    assert r["lo"] <= r["diff"] <= r["hi"] and r["significant"] is True
    set_row = rows[("plain|temperature=0.7", "distinct_2")]
    assert set_row["lo"] is None  # set-level metrics: no per-sample values to resample


def test_compare_cli_formats(tiny_suite, tmp_path, fake_backend):
    store, a, b = _two_runs(tiny_suite, tmp_path)
    runner = CliRunner()
    base = tmp_path / "a.json"
    assert runner.invoke(app, ["baseline", a, "-o", str(base), "--store",
                               str(store.path)]).exit_code == 0
    for fmt in ("md", "json", "html", "table"):
        res = runner.invoke(app, ["compare", str(base), b, "--format", fmt, "--store",
                                  str(store.path)])
        assert res.exit_code == 0, res.output
        assert "length_words" in res.output
    res = runner.invoke(app, ["compare", a, b, "--format", "json", "--store", str(store.path)])
    assert any(r["significant"] for r in json.loads(res.output)["rows"])


def test_checks_absolute_and_relative(tiny_suite, tmp_path, fake_backend):
    store, a, b = _two_runs(tiny_suite, tmp_path)
    sa, sb = build_summary(store, a), build_summary(store, b)
    rows = evaluate_checks(sb, [Check(metric="length_words", op="<=", value=1000),
                                Check(metric="length_words", max_increase=1.0),
                                Check(metric="no_such_metric", op=">", value=0)], baseline=sa)
    by_check = {}
    for r in rows:
        by_check.setdefault(r["check"], []).append(r["passed"])
    assert by_check["length_words <= 1000"] == [True] * 4
    assert by_check["length_words rises at most 1 over baseline"] == [False] * 4
    assert by_check["no_such_metric > 0"] == [False] * 4  # a missing metric never passes
