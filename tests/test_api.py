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
    assert harness.summary("latest", store=store)["run"]["id"] == b.run.id
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
