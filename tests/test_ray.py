"""The ray executor on a real local Ray cluster with replicas of the embedded model:
same keys and metrics as a single-process run, and a replica killed mid-run."""

from __future__ import annotations

import functools

import pytest

from harness.generate.runner import run_suite
from harness.store.tables import Store
from harness.suite.load import load_suite

from .conftest import write_tiny_suite
from .tolerance import PERPLEXITY_REL, differences

pytestmark = pytest.mark.model
ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster():
    """One local 2-CPU Ray cluster for the module (starting one takes ~15 s here)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """The tiny suite (16 requests × 12 tokens) run in-process: the reference."""
    import torch

    tmp = tmp_path_factory.mktemp("local")
    suite = load_suite(write_tiny_suite(tmp / "tiny.yaml"))
    store = Store(tmp / "local.sqlite")
    # Ray gives each 1-CPU replica one intra-op thread; the float reductions (and so the
    # sampled texts) depend on the thread count, so the reference runs with one thread too.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = run_suite(suite, store)
    finally:
        torch.set_num_threads(threads)
    return store, result


def _tolerance(path: str) -> tuple[float, float]:
    """(relative, absolute) tolerance of a summary float at ``path``: float32's bound for
    values computed from the scorer's log-probabilities, none for the others."""
    return (PERPLEXITY_REL, 0.0) if "/perplexity" in path else (0.0, 0.0)


def _texts(store: Store) -> dict[str, str]:
    return dict(store.db.execute("SELECT key, text FROM generations"))


def _counting(monkeypatch, **options) -> list[str]:
    """Route the runner's ray_generate through a wrapper that records every key it yields
    (so a key yielded twice, i.e. stored twice, would show up) and passes ``options``."""
    import harness.generate.executors

    yielded: list[str] = []
    original = harness.generate.executors.ray_generate

    def wrapped(*args, **kwargs):
        for gen in original(*args, **{**kwargs, **options}):
            yielded.append(gen.key)
            yield gen

    monkeypatch.setattr(harness.generate.executors, "ray_generate", wrapped)
    return yielded


def test_ray_pool_matches_single_process(cluster, local_run, tmp_path, monkeypatch):
    local_store, local = local_run
    yielded = _counting(monkeypatch)
    suite = load_suite(write_tiny_suite(tmp_path / "tiny.yaml"))
    store = Store(tmp_path / "ray.sqlite")
    result = run_suite(suite, store, executor="ray", replicas=2)
    assert (result.generated, result.cached) == (16, 0)
    assert sorted(yielded) == sorted(set(yielded)) and len(yielded) == 16
    ray_texts, local_texts = _texts(store), _texts(local_store)
    # a request's text depends only on its seed and parameters, not on which replica or
    # batch decoded it (tests/backends/test_hf.py, test_rows.py): texts are equal exactly
    assert ray_texts == local_texts
    # metric values agree within float32's bound (tests/tolerance.py): perplexity is
    # scored in batches that differ between the runs; everything else is computed from
    # the equal texts in float64 and must be equal
    diff = differences(result.summary["cells"], local.summary["cells"], _tolerance)
    assert not diff, diff
    # the second run is served from the store without Ray
    again = run_suite(suite, store, executor="ray", replicas=2)
    assert (again.generated, again.cached) == (0, 16)


def test_replica_killed_mid_run_completes_without_duplicates(cluster, local_run, tmp_path,
                                                             monkeypatch):
    local_store, _ = local_run
    killed: list[object] = []

    def kill_one(done) -> None:  # after the first chunk: kill a replica that has work queued
        if not killed and done.busy:
            killed.append(done.busy[0])
            ray.kill(done.busy[0])

    logs: list[str] = []
    yielded = _counting(monkeypatch, chunk_size=2, on_chunk=kill_one)
    from harness.generate.runner import Progress

    suite = load_suite(write_tiny_suite(tmp_path / "tiny.yaml"))
    store = Store(tmp_path / "ray.sqlite")
    result = run_suite(suite, store, executor="ray", replicas=2,
                       progress=Progress(log=logs.append))
    assert killed, "no replica had work in flight after the first chunk"
    assert any("replica died" in m for m in logs), logs
    assert result.run.status == "done" and result.generated == 16
    assert len(yielded) == len(set(yielded)) == 16  # never yielded (stored) twice
    assert set(_texts(store)) == set(_texts(local_store))
    assert store.db.execute("SELECT COUNT(*) FROM generations").fetchone()[0] == 16


def test_missing_ray_names_the_extra(monkeypatch):
    import builtins

    from harness.backends.base import BackendError
    from harness.generate.executors import ray_generate

    real_import = builtins.__import__

    @functools.wraps(real_import)
    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(BackendError, match=r"pip install -e '\.\[ray\]'"):
        list(ray_generate([object()], "hf", "smollm2-135m"))  # type: ignore[list-item]


def test_pool_sizing():
    from harness.generate.executors.ray import chunks_of, pool_size

    assert pool_size({"CPU": 8.0}, None) == (8, False)
    assert pool_size({"CPU": 64.0, "GPU": 8.0}, None) == (8, True)
    assert pool_size({"CPU": 2.0}, 3) == (3, False)
    todo = list(range(100))
    assert [len(c) for c in chunks_of(todo, 2, 32)] == [25] * 4  # short plan: 2 per replica
    assert max(len(c) for c in chunks_of(list(range(1000)), 2, 32)) == 64  # 2 × batch size


def test_replicas_that_cannot_start_fail_clearly(cluster):
    from harness.backends.base import BackendError
    from harness.generate.executors import ray_generate
    from harness.suite.plan import plan
    from harness.suite.schema import Suite

    suite = Suite(name="x", prompts=[{"id": "p", "template": "hi"}], inputs=[{"id": "a"}],
                  samples=1)
    todo = plan(suite, model="/nonexistent/model", backend="hf")
    with pytest.raises(BackendError, match="no Ray replica could start"):
        list(ray_generate(todo, "hf", "/nonexistent/model", replicas=1, max_restarts=1))
