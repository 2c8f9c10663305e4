"""The Python API: the worked example of docs/api.md runs as written on the real model,
and the functions return what the CLI shows."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re

import pytest

from .conftest import ROOT


def example_code() -> str:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1
    return blocks[0]


@pytest.mark.model
def test_the_worked_example_in_docs_api_runs(tmp_path):
    cwd = os.getcwd()
    os.chdir(tmp_path)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(example_code(), "docs/api.md", "exec"), {})
    finally:
        os.chdir(cwd)
    printed = out.getvalue()
    assert "48 generated, 0 from the store" in printed
    assert printed.count("distinct_2 ") >= 4  # one line per cell, with its interval
    assert "p_adj" in printed
    scores = eval(printed.strip().splitlines()[-1])  # the dict harness.score printed
    assert set(scores) == {"distinct_2", "self_bleu"} and 0 < scores["distinct_2"] <= 1


def test_api_matches_the_cli(tmp_path, fake_backend):
    from typer.testing import CliRunner

    import harness
    from harness.cli.app import app

    from .test_compare import _suite

    store = tmp_path / "s.sqlite"
    a = harness.run(_suite(tmp_path), store=store)
    b = harness.run(_suite(tmp_path, max_tokens=40), store=store)
    assert [r["id"] for r in harness.runs(store=store)] == [b.run.id, a.run.id]
    rows = harness.compare(a.run.id, b.run.id, store=store)
    cli = CliRunner().invoke(app, ["compare", a.run.id, b.run.id, "--format", "json",
                                   "--store", str(store)])
    assert json.loads(cli.output) == json.loads(json.dumps(rows))
    samples = harness.samples(b.run.id, store=store)
    assert len(samples) == 60 and all("length_words" in s["scores"] for s in samples)
    assert harness.summary("latest", store=store).run.id == b.run.id
    got = harness.score(["a b c d", "a b c d"], ["distinct_2", "length_words"])
    assert got["length_words"] == [4.0, 4.0] and got["distinct_2"] == pytest.approx(0.5)
    bad = tmp_path / "bad.json"
    bad.write_text("[1]", encoding="utf-8")
    with pytest.raises(harness.ReportError, match="not a harness JSON report"):
        harness.summary(bad, store=store)


def _bad_calls(tmp_path):
    import harness

    st = {"store": tmp_path / "s.sqlite"}
    return [
        ("suite", lambda: harness.run(123, **st)),
        ("suite", lambda: harness.run(None, **st)),
        ("limit", lambda: harness.run("x.yaml", limit=0, **st)),
        ("limit", lambda: harness.run("x.yaml", limit=-1, **st)),
        ("limit", lambda: harness.run("x.yaml", limit=1.5, **st)),
        ("limit", lambda: harness.run("x.yaml", limit=True, **st)),
        ("store", lambda: harness.run("x.yaml", store=123)),
        ("backend", lambda: harness.run("x.yaml", backend=7, **st)),
        ("ref", lambda: harness.samples(None, **st)),
        ("ref", lambda: harness.samples("", **st)),
        ("ref", lambda: harness.summary(42, **st)),
        ("store", lambda: harness.summary(store=123)),
        ("store", lambda: harness.samples(store=None)),
        ("limit", lambda: harness.runs(limit="x", **st)),
        ("limit", lambda: harness.runs(limit=0, **st)),
        ("store", lambda: harness.runs(store=b"s.sqlite")),
        ("by", lambda: harness.compare("latest", by="cell", **st)),
        ("a", lambda: harness.compare(123, **st)),
        ("texts", lambda: harness.score("abc", ["length_words"])),
        ("texts[0]", lambda: harness.score([None], ["length_words"])),
        ("texts[1]", lambda: harness.score(["a", 3], ["length_words"])),
        ("metrics", lambda: harness.score(["a"], "length_words")),
        ("metrics[0]", lambda: harness.score(["a"], [None])),
        ("prompt", lambda: harness.score(["a"], ["length_words"], prompt=5)),
    ]


def test_bad_arguments_raise_the_librarys_input_error_naming_the_argument(tmp_path):
    """Every wrong argument is an ``InputError`` (the CLI's exit 2) whose message names
    the argument, raised before any store is opened or created or any model loaded."""
    import harness

    for name, call in _bad_calls(tmp_path):
        with pytest.raises(harness.InputError) as caught:
            call()
        assert str(caught.value).startswith(name + " "), (name, str(caught.value))
    assert not (tmp_path / "s.sqlite").exists()


def test_bad_summaries_and_unknown_runs_are_the_librarys_errors(tmp_path, fake_backend):
    import harness
    from harness.store.tables import StoreError

    from .test_compare import _suite

    assert harness.StoreError is StoreError  # the documented errors are the package's

    store = tmp_path / "s.sqlite"
    with pytest.raises(harness.ReportError, match="argument a: not a harness JSON report"):
        harness.compare({}, {})
    with pytest.raises(harness.ReportError, match="argument b: not a harness JSON report"):
        harness.compare(harness.run(_suite(tmp_path), store=store).summary, {"cells": 1})
    with pytest.raises(StoreError, match="no store at"):
        harness.samples("latest", store=tmp_path / "none.sqlite")
    with pytest.raises(StoreError, match="no run"):
        harness.samples("nosuchrun", store=store)
    one = harness.run(_suite(tmp_path), store=store, limit=1)
    assert {s["input_id"] for s in harness.samples(one.run.id, store=store)} == {"spring"}


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_cli_limit_below_one_is_bad_input(tmp_path, limit):
    from typer.testing import CliRunner

    from harness.cli.app import app

    from .test_compare import _suite

    for cmd in ("run", "check"):
        res = CliRunner().invoke(app, [cmd, str(_suite(tmp_path)), "--limit", limit,
                                       "--store", str(tmp_path / "s.sqlite")])
        assert res.exit_code == 2 and "--limit" in res.output, res.output
    assert not (tmp_path / "s.sqlite").exists()


def test_check_is_the_gate_as_a_function(tmp_path, fake_backend, monkeypatch):
    """``harness.check`` runs the suite and returns the typed result the CLI prints: the
    suite's checks and the regression rows apart, ``passed``, the run it checked, and the
    Markdown a CI step summary gets (the CLI writes exactly that)."""
    from typer.testing import CliRunner

    import harness
    from harness.cli.app import app

    from .test_compare import _suite

    store = tmp_path / "s.sqlite"
    suite = _suite(tmp_path)
    suite.write_text(suite.read_text(encoding="utf-8")
                     + 'checks: ["length_words >= 1", "length_words <= 2"]\n', encoding="utf-8")
    first = harness.check(suite, store=store)
    assert isinstance(first, harness.CheckResult) and not first.passed
    assert first.regressions == [] and len(first.checks) == 8  # 2 checks × 4 cells
    assert first.failed == first.rows[:4] and all(r["check"] == "length_words <= 2"
                                                  for r in first.failed)
    assert first.run_id == first.run.run.id == first.summary["run"]["id"]
    assert first.summary["checks"] == first.rows  # what the reports show
    baseline = harness.summary(first.run_id, store=store, samples=False)
    again = harness.check(suite, baseline, store=store, metrics=["distinct_2"])
    assert again.run.generated == 0 and len(again.regressions) == 4
    assert all(r["passed"] and "identical to the baseline" in r["reason"]
               for r in again.regressions)
    assert again.count_line() == "8/12 checks passed"
    summary_file = tmp_path / "step.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary_file))
    (tmp_path / "base.json").write_text(json.dumps(baseline.as_json()), encoding="utf-8")
    res = CliRunner().invoke(app, ["check", str(suite), "--baseline",
                                   str(tmp_path / "base.json"), "--metric", "distinct_2",
                                   "--store", str(store), "--reports", str(tmp_path / "r")])
    assert res.exit_code == 1 and "8/12 checks passed" in res.output, res.output
    cli_run = harness.runs(store=store, limit=1)[0]["id"]  # a rerun is a run of its own
    assert summary_file.read_text(encoding="utf-8").replace(cli_run, again.run_id) \
        == again.markdown()
    assert "## Checks: 8/12 checks passed" in again.markdown()
    with pytest.raises(harness.GateError, match="nothing to check"):
        harness.check(_suite(tmp_path), store=store)


def test_run_takes_every_option_of_the_cli_run(tmp_path, fake_backend, monkeypatch):
    """Every option of the CLI's ``run`` reaches the runner through ``harness.run`` (the
    CLI calls it), and a wrong one is an ``InputError`` naming it, before any store."""
    import inspect

    import harness
    import harness.generate.runner
    from harness.api import RunOptions
    from harness.generate.runner import run_suite

    runner_options = set(inspect.signature(run_suite).parameters) - {"suite", "store"}
    assert set(RunOptions.__annotations__) == runner_options
    seen = {}
    real = harness.generate.runner.run_suite

    def spy(suite, store, **options):
        seen.update(options)
        return real(suite, store, **{**options, "executor": None, "replicas": None})

    monkeypatch.setattr(harness.generate.runner, "run_suite", spy)
    from typer.testing import CliRunner

    from harness.cli.app import app

    from .test_compare import _suite

    args = ["run", str(_suite(tmp_path)), "--store", str(tmp_path / "s.sqlite"), "--reports",
            str(tmp_path / "r"), "--batch-size", "3", "--concurrency", "2", "--replicas", "2",
            "--ray", "--limit", "1", "--dtype", "float32", "--no-cache", "--model", "m"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert seen["batch_size"] == 3 and seen["concurrency"] == 2 and seen["replicas"] == 2
    assert seen["executor"] == "ray" and seen["limit"] == 1 and seen["no_cache"] is True
    assert seen["dtype"] == "float32" and seen["model"] == "m"
    st = {"store": tmp_path / "none.sqlite"}
    for name, call in [
        ("batch_size", lambda: harness.run("x.yaml", batch_size=0, **st)),
        ("concurrency", lambda: harness.run("x.yaml", concurrency="2", **st)),
        ("executor", lambda: harness.run("x.yaml", executor="spark", **st)),
        ("adaptive", lambda: harness.run("x.yaml", adaptive="yes", **st)),
        ("limt", lambda: harness.run("x.yaml", limt=1, **st)),
        ("tolerance", lambda: harness.check("x.yaml", tolerance="0.1", **st)),
        ("metrics", lambda: harness.check("x.yaml", metrics="distinct_2", **st)),
        ("replicas", lambda: harness.check("x.yaml", replicas=0, **st)),
    ]:
        with pytest.raises(harness.InputError) as caught:
            call()
        assert str(caught.value).startswith(name + " "), (name, str(caught.value))
    assert not st["store"].exists()


def test_bad_input_is_one_error_family():
    """Every library error that means bad input is an ``InputError`` (the CLI's exit 2,
    and nothing else is); an unknown name is still a ``KeyError`` for callers."""
    import harness
    from harness.backends.base import BackendConfigError, BackendError
    from harness.backends.models import ModelError
    from harness.humans.sheets import RatingError
    from harness.metrics import MissingResourceError
    from harness.metrics.registry import MetricError
    from harness.plugins import PluginError

    for exc in (harness.SuiteError, harness.StoreError, harness.ReportError, harness.GateError,
                harness.UnknownName, RatingError, ModelError, MissingResourceError,
                MetricError, PluginError, BackendConfigError):
        assert issubclass(exc, harness.InputError), exc
    assert issubclass(harness.UnknownName, KeyError)
    assert not issubclass(BackendError, harness.InputError)  # a failed backend: exit 3
