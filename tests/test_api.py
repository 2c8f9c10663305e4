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
    from harness.cli import app

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
