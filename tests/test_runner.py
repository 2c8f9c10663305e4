"""The runner's plumbing with a fake backend: caching, partial reruns, failures, resume."""

import json

import pytest
from typer.testing import CliRunner

from harness.backends.base import BackendError
from harness.generate.runner import run_suite
from harness.store.tables import Store
from harness.suite.load import load_suite
from harness.summarize.build import build_summary

from .conftest import FakeBackend


def test_second_run_is_served_from_the_store(tiny_suite, tmp_path, fake_backend):
    store = Store(tmp_path / "s.sqlite")
    first = run_suite(load_suite(tiny_suite), store)
    assert (first.generated, first.cached) == (16, 0)
    assert len(fake_backend) == 1  # one backend, used for generation and perplexity
    second = run_suite(load_suite(tiny_suite), store)
    assert (second.generated, second.cached) == (0, 16)
    assert len(fake_backend) == 1  # no model loaded: generations and scores were cached
    assert second.summary["cells"] == first.summary["cells"]


def test_changing_one_variant_regenerates_only_it(tiny_suite, tmp_path, fake_backend):
    store = Store(tmp_path / "s.sqlite")
    run_suite(load_suite(tiny_suite), store)
    tiny_suite.write_text(tiny_suite.read_text().replace(
        "  - id: plain\n    template: \"Write a two-line",
        "  - id: plain\n    template: \"Write a short"))
    result = run_suite(load_suite(tiny_suite), store)
    assert (result.generated, result.cached) == (8, 8)
    regenerated = set(fake_backend[-1].generated)
    items = store.run_items(result.run.id)
    assert {i["variant"] for i in items if i["key"] in regenerated} == {"plain"}


def test_failure_keeps_what_was_generated(tiny_suite, tmp_path, monkeypatch):
    import harness.generate.runner

    monkeypatch.setattr(harness.generate.runner, "make_backend",
                        lambda *a, **k: FakeBackend(fail_after=10))
    store = Store(tmp_path / "s.sqlite")
    with pytest.raises(BackendError, match="fake server failed"):
        run_suite(load_suite(tiny_suite), store)
    run = store.run("latest")
    assert run.status == "failed" and "fake server failed" in run.error
    assert store.db.execute("SELECT COUNT(*) FROM generations").fetchone()[0] == 10
    # the next run resumes the same run id and generates only the rest
    monkeypatch.setattr(harness.generate.runner, "make_backend", lambda *a, **k: FakeBackend())
    result = run_suite(load_suite(tiny_suite), store)
    assert result.run.id == run.id and result.run.status == "done"
    assert (result.generated, result.cached) == (6, 10)


def test_no_cache_regenerates(tiny_suite, tmp_path, fake_backend):
    store = Store(tmp_path / "s.sqlite")
    run_suite(load_suite(tiny_suite), store)
    result = run_suite(load_suite(tiny_suite), store, no_cache=True)
    assert result.generated == 16


def test_summary_cells_and_ci(tiny_suite, tmp_path, fake_backend):
    store = Store(tmp_path / "s.sqlite")
    result = run_suite(load_suite(tiny_suite), store)
    summary = result.summary
    assert summary["schema_version"] == 2
    assert len(summary["cells"]) == 4 and all(c["n"] == 4 for c in summary["cells"])
    for cell in summary["cells"]:
        assert cell["n_inputs"] == 2
        for name, m in cell["metrics"].items():
            assert m["lo"] <= m["mean"] <= m["hi"], name
            assert m["method"] == "t over inputs" and set(m["inputs"]) == {"spring", "chun"}
            assert m["mean"] == pytest.approx(sum(m["inputs"].values()) / 2)
    # per-sample perplexity from the fake scorer's -1 nats/token is e exactly
    ppl = summary["cells"][0]["metrics"]["perplexity"]
    assert ppl["mean"] == pytest.approx(2.718281828, rel=1e-6)
    assert len(summary["samples"]) == 16
    again = build_summary(store, result.run.id)
    assert json.dumps(again["cells"]) == json.dumps(summary["cells"])


def test_unknown_metric_fails_before_work(tiny_suite, tmp_path, fake_backend):
    tiny_suite.write_text(tiny_suite.read_text().replace("metrics: [distinct_1,",
                                                         "metrics: [distinct_9,"))
    with pytest.raises(KeyError, match="distinct_9"):
        run_suite(load_suite(tiny_suite), Store(tmp_path / "s.sqlite"))
    assert fake_backend == []


def test_runs_scored_before_per_input_sets_still_render(tiny_suite, tmp_path, fake_backend):
    """A store written by 0.1 holds pooled set values in cell_scores: shown, no interval."""
    store = Store(tmp_path / "s.sqlite")
    run = run_suite(load_suite(tiny_suite), store).run
    with store.db:
        store.db.execute("INSERT INTO cell_scores SELECT run_id, cell, metric, AVG(value) "
                         "FROM input_scores GROUP BY run_id, cell, metric")
        store.db.execute("DELETE FROM input_scores")
    cell = build_summary(store, run.id)["cells"][0]
    d2 = cell["metrics"]["distinct_2"]
    assert d2["lo"] is None and "pooled" in d2["method"] and d2["inputs"] == {}
    assert cell["metrics"]["length_words"]["lo"] is not None  # per-sample: unaffected


@pytest.mark.parametrize("args,executor,address", [
    ([], None, None),
    (["--ray"], "ray", None),
    (["--ray", "--replicas", "2"], "ray", None),
    (["--ray-address", "10.0.0.5:6379"], "ray", "10.0.0.5:6379"),
    (["--ray", "--ray-address", "auto"], "ray", "auto"),
])
def test_ray_flags_reach_the_runner(args, executor, address, tiny_suite, tmp_path,
                                    monkeypatch):
    import harness.generate.runner
    from harness.backends.base import BackendError
    from harness.cli.app import app

    seen = {}

    def run_suite(suite, store, **options):
        seen.update(options)
        raise BackendError("stop here")

    monkeypatch.setattr(harness.generate.runner, "run_suite", run_suite)
    result = CliRunner().invoke(app, ["run", str(tiny_suite), "--store",
                                      str(tmp_path / "s.sqlite"), *args])
    assert result.exit_code == 3, result.output
    assert (seen["executor"], seen["ray_address"]) == (executor, address)
