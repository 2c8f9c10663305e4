"""A run's summary is built once, when the run ends, and stored: reading it back computes
nothing, and a run stored before summaries were kept gets one on first read."""

from __future__ import annotations

import shutil

import pytest

import harness
from harness.generate.runner import run_suite
from harness.store.tables import Store
from harness.suite.load import load_suite
from harness.summarize.build import build_summary
from harness.summarize.model import Summary
from harness.summarize.stored import summary_of
from tests.conftest import ROOT


def _no_building(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every way of computing a summary raise."""
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("the summary was computed again")

    import harness.summarize.build
    import harness.summarize.stored

    monkeypatch.setattr(harness.summarize.build, "build_summary", boom)
    monkeypatch.setattr(harness.summarize.stored, "build_summary", boom)
    monkeypatch.setattr("harness.stats.comparisons.compare_within", boom)
    monkeypatch.setattr("harness.summarize.cells.summarize", boom)


def test_a_run_stores_its_summary_and_reading_it_computes_nothing(
        tiny_suite, tmp_path, fake_backend, monkeypatch) -> None:
    store = Store(tmp_path / "s.sqlite")
    result = run_suite(load_suite(tiny_suite), store)
    assert store.get_summary(result.run.id) is not None
    _no_building(monkeypatch)
    stored = summary_of(store, result.run.id)
    assert isinstance(stored, Summary)
    assert stored.as_json()["cells"] == result.summary["cells"]
    assert stored.samples and stored.samples[0].text
    assert "samples" not in summary_of(store, result.run.id, samples=False).as_json()
    typed = harness.summary(result.run.id, store=tmp_path / "s.sqlite")
    assert isinstance(typed, Summary) and typed.run.id == result.run.id


def test_a_store_written_before_gets_its_summary_built_once(tmp_path, monkeypatch) -> None:
    path = tmp_path / "old.sqlite"
    shutil.copy(ROOT / "tests" / "data" / "store_v3.sqlite", path)
    store = Store(path)
    run_id = store.db.execute("SELECT id FROM runs ORDER BY started_at LIMIT 1").fetchone()[0]
    assert store.get_summary(run_id) is None
    first = summary_of(store, run_id)
    assert first.as_json() == Summary.model_validate(build_summary(store, run_id)).as_json()
    assert store.get_summary(run_id) is not None
    _no_building(monkeypatch)
    assert summary_of(store, run_id).as_json() == first.as_json()
