"""The summary schema: published file current, real summaries valid, newer ones refused."""

from __future__ import annotations

import json

import pytest

import harness
from harness.summarize.cells import SCHEMA_VERSION
from harness.summarize.model import Summary, json_schema

from .conftest import ROOT


def test_the_published_schema_is_current():
    published = json.loads((ROOT / "docs" / "summary.schema.json").read_text("utf-8"))
    assert published == json.loads(json.dumps(json_schema()))


def test_a_real_summary_validates_and_round_trips(tmp_path, fake_backend):
    from .test_compare import _suite

    result = harness.run(_suite(tmp_path), store=tmp_path / "s.sqlite")
    data = json.loads(json.dumps(result.summary))
    model = Summary.model_validate(data)
    assert model.schema_version == SCHEMA_VERSION
    assert model.profile is not None and model.profile.total_s > 0
    cell = model.cells[0]
    value = cell.metrics["distinct_2"]
    assert not isinstance(value, float) and value is not None
    assert value.n_inputs == 5 and set(value.inputs or {}) == {"spring", "sea", "moon",
                                                               "city", "rain"}


def test_a_baseline_from_a_newer_harness_is_refused(tmp_path, fake_backend):
    from typer.testing import CliRunner

    from harness.cli.app import app

    from .test_compare import _suite

    suite = _suite(tmp_path)
    st = ["--store", str(tmp_path / "s.sqlite"), "--reports", str(tmp_path / "r")]
    result = harness.run(suite, store=tmp_path / "s.sqlite")
    newer = {**json.loads(json.dumps(result.summary)), "schema_version": SCHEMA_VERSION + 1}
    path = tmp_path / "b.json"
    path.write_text(json.dumps(newer), encoding="utf-8")
    res = CliRunner().invoke(app, ["check", str(suite), "--baseline", str(path), *st])
    assert res.exit_code == 2 and "newer harness" in res.output
    bad = {**json.loads(json.dumps(result.summary))}
    bad["cells"][0]["metrics"]["distinct_2"] = {"mean": "high"}
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(harness.ReportError, match=r"cells\.0\.metrics\.distinct_2"):
        harness.summary(path)
