"""Ray executor scaling: 1 vs 2 replicas on the same workload, side by side in one run,
plus the fixed costs a throughput model needs (store writes, per-chunk transfer).

    python benchmarks/scaling.py [--samples 4] [--max-tokens 32] [--batch-size 8] [--cpus 2]

Workload: the tests' tiny suite (2 prompts × 2 inputs × 2 temperatures × ``samples``) on
the embedded model, generated straight through ``ray_generate`` (no store, no metrics).
Each pool run's wall time includes starting its replicas (worker start + model load);
"gen-only" starts when the last replica has loaded (in-process: after the model load).
Also measured: a single in-process hf backend with torch's default threads (the baseline
a local ``harness run`` gets), SQLite ``add_generations`` per 1,000 generations in commits
of 8 (what the driver does), and the round trip of one chunk of requests/generations
through an echo actor (Ray scheduling + serialisation, no model).

On a 2-core machine expect ≤ 1.0–1.3× from 2 replicas: each replica runs torch with one
intra-op thread, while the single-process baseline already uses both cores for every
matrix multiply, so replicas mostly trade intra-op parallelism for request parallelism.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from harness.records import Generation, Request

TINY = Path(__file__).resolve().parent.parent / "tests" / "conftest.py"


def workload(samples: int, max_tokens: int) -> list[Request]:
    """The tiny suite's plan with ``samples`` samples of ``max_tokens`` tokens each."""
    import importlib.util

    from harness.suite.load import load_suite
    from harness.suite.plan import plan

    spec = importlib.util.spec_from_file_location("_conftest", TINY)
    conftest = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(conftest)  # type: ignore[union-attr]
    tmp = Path(tempfile.mkdtemp())
    suite = load_suite(conftest.write_tiny_suite(tmp / "tiny.yaml", samples, max_tokens))
    return plan(suite, model=suite.model, backend="hf")


def pool_run(todo: list[Request], replicas: int, batch_size: int) -> dict[str, float]:
    """Generate ``todo`` on ``replicas`` replicas; return wall time, tokens, first chunk."""
    from harness.generate.executors.ray import ray_generate

    ready: list[float] = []
    up: list[float] = []  # when each replica finished loading its model
    start = time.perf_counter()

    def log(msg: str) -> None:
        if "replica ready" in msg:
            up.append(time.perf_counter())

    def first(done) -> None:  # noqa: ANN001 - ChunkDone
        if not ready:
            ready.append(time.perf_counter())

    tokens = 0
    for gen in ray_generate(todo, "hf", "smollm2-135m", replicas=replicas,
                            batch_size=batch_size, log=log, on_chunk=first):
        tokens += gen.completion_tokens
    wall = time.perf_counter() - start
    return {"wall": wall, "tokens": tokens, "first_chunk": ready[0] - start,
            "gen": time.perf_counter() - max(up)}


def local_run(todo: list[Request], batch_size: int) -> dict[str, float]:
    """Generate ``todo`` with one in-process hf backend (torch's default thread count)."""
    from harness.backends import make_backend

    start = time.perf_counter()
    engine = make_backend("hf", "smollm2-135m", batch_size=batch_size)
    loaded = time.perf_counter()
    tokens = sum(g.completion_tokens for g in engine.generate(todo))
    end = time.perf_counter()
    return {"wall": end - start, "gen": end - loaded, "tokens": tokens}


def store_write_seconds(n: int = 1000, commit_every: int = 8) -> float:
    """Seconds to store ``n`` generations in commits of ``commit_every`` (as the runner)."""
    from harness.records import SamplingParams
    from harness.store.tables import Store

    reqs = [Request(key=f"{i:064x}", model="m", messages=(("user", "Write a poem " * 8),),
                    params=SamplingParams(), sample_index=0, seed=i) for i in range(n)]
    gens = [Generation(key=r.key, text="word " * 60, completion_tokens=64) for r in reqs]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "s.sqlite")
        start = time.perf_counter()
        for i in range(0, n, commit_every):
            store.add_generations(zip(reqs[i : i + commit_every], gens[i : i + commit_every],
                                      strict=True))
        elapsed = time.perf_counter() - start
        store.close()
    return elapsed


class _Echo:
    """An actor that returns a generation per request without a model."""

    def generate(self, chunk: list[Request]) -> list[Generation]:
        return [Generation(key=r.key, text="word " * 60, completion_tokens=64) for r in chunk]


def transfer_seconds(todo: list[Request], chunk: int = 64, rounds: int = 20) -> float:
    """Mean round trip of one chunk of ``chunk`` requests through an echo actor."""
    import ray

    reqs = (todo * (chunk // len(todo) + 1))[:chunk]
    actor = ray.remote(_Echo).options(num_cpus=1).remote()
    ray.get(actor.generate.remote(reqs))  # warm up
    start = time.perf_counter()
    for _ in range(rounds):
        ray.get(actor.generate.remote(reqs))
    elapsed = (time.perf_counter() - start) / rounds
    ray.kill(actor)
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--no-local", action="store_true", help="skip the in-process baseline")
    args = ap.parse_args()

    import ray

    from harness.backends.models import DEFAULT_MODEL, resolve

    resolve(DEFAULT_MODEL, print)  # one-time conversion, not part of the measurement
    todo = workload(args.samples, args.max_tokens)
    print(f"workload: {len(todo)} requests × ≤{args.max_tokens} tokens, batch size "
          f"{args.batch_size}, {args.cpus} CPUs, OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}")
    local = None if args.no_local else local_run(todo, args.batch_size)
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    try:
        runs = {n: pool_run(todo, n, args.batch_size) for n in (1, 2)}
        transfer = transfer_seconds(todo)
    finally:
        ray.shutdown()
    store_s = store_write_seconds()

    print(f"{'':22}{'wall s':>9}{'gen-only s':>12}{'tokens':>8}{'tok/s wall':>12}"
          f"{'tok/s gen':>11}")
    if local:
        print(f"{'in-process hf':22}{local['wall']:9.1f}{local['gen']:12.1f}"
              f"{local['tokens']:8.0f}{local['tokens'] / local['wall']:12.1f}"
              f"{local['tokens'] / local['gen']:11.1f}")
    for n, r in runs.items():
        print(f"{f'ray, {n} replica(s)':22}{r['wall']:9.1f}{r['gen']:12.1f}{r['tokens']:8.0f}"
              f"{r['tokens'] / r['wall']:12.1f}{r['tokens'] / r['gen']:11.1f}")
    for col, what in (("wall", "incl. replica start"), ("gen", "after all replicas loaded")):
        ratio = (runs[2]["tokens"] / runs[2][col]) / (runs[1]["tokens"] / runs[1][col])
        print(f"2 vs 1 replicas, tokens/s ({what}): {ratio:.2f}×")
    print(f"store: {store_s:.3f} s per 1,000 generations (commits of 8)")
    print(f"transfer: {transfer * 1000:.1f} ms per chunk of 64 requests round trip (echo actor)")
    print("note: replicas run torch with 1 intra-op thread each; on a 2-core machine they "
          "compete with each other (and with the driver), so expect ≤ 1.0–1.3×.")


if __name__ == "__main__":
    main()
