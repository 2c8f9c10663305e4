"""Generation throughput of the harness backends against plain baselines, in one run.

Workload: PROMPTS chat prompts x SAMPLES samples x MAX_TOKENS new tokens on the embedded
model, fixed per-request seeds, temperature 0.8, top-p 0.95. Three comparisons, each
printing generated tokens per second (completion tokens actually produced / wall time)
and the ratio:

  hf      harness ``hf`` backend        vs a one-sample-at-a-time transformers generate loop
  vllm    harness ``vllm`` backend      vs raw ``vllm.LLM.generate`` (same engine, prompts,
                                           params: one SamplingParams(n=SAMPLES) per prompt)
  openai  harness ``openai`` backend    vs a raw async httpx client sending the same requests
                                           to the same ``vllm serve`` with the same concurrency

The hf part ends with the cost of issue 29's fix (``padding``, also a part of its own): the
hf backend with every product on whole 16-row blocks and attention in float64, against the
same backend on plain products with float32 attention (and the blocks alone), interleaved
rounds on both workloads.

The vllm and openai parts skip with a printed reason when vLLM is not importable. The
sequential transformers loop runs on the first ``--loop-requests`` requests only (its rate
does not depend on how many it runs; ``--loop-requests 0`` runs all of them).

    VLLM_CPU_KVCACHE_SPACE=2 python benchmarks/throughput.py [--parts hf,vllm,openai]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from _machine import kernel_libraries, machine_line

from harness.records import Generation, Request, SamplingParams, content_key, derive_seed

TOPICS = ["the sea", "a lighthouse", "autumn leaves", "a city at night", "an old clock",
          "a mountain village", "the first snow", "a forgotten letter", "a busy market",
          "a desert road", "a library", "a summer storm", "a train station", "a garden",
          "the moon", "a fishing boat", "a violin", "a bakery at dawn", "a glacier", "a kite"]


def workload(prompts: int, samples: int, max_tokens: int) -> list[Request]:
    """Return prompts x samples requests with fixed per-request seeds."""
    params = SamplingParams(temperature=0.8, top_p=0.95, max_tokens=max_tokens)
    out = []
    for i in range(prompts):
        topic = TOPICS[i % len(TOPICS)] + ("" if i < len(TOPICS) else f" #{i}")
        chat = (("user", f"Write a long, vivid story about {topic}."),)
        for s in range(samples):
            key = content_key({"bench": chat, "params": params.as_dict(), "sample": s})
            out.append(Request(key=key, model="smollm2-135m", messages=chat, params=params,
                               sample_index=s, seed=derive_seed(0, key)))
    return out


def timed(label: str, fn: Callable[[], Iterable[Generation] | int]) -> float:
    """Run ``fn`` (returning generations or a token count); print and return tokens/s."""
    start = time.perf_counter()
    result = fn()
    tokens = result if isinstance(result, int) else sum(g.completion_tokens for g in result)
    elapsed = time.perf_counter() - start
    rate = tokens / elapsed
    print(f"  {label:<34} {tokens:6d} tokens  {elapsed:7.1f} s  {rate:8.1f} tok/s", flush=True)
    return rate


def ratio(name: str, harness: float, baseline: float, target: float) -> None:
    r = harness / baseline
    verdict = "ok" if r >= target else "BELOW TARGET"
    print(f"  => {name}: {r:.2f}x (target >= {target}x) {verdict}\n", flush=True)


# -- hf ---------------------------------------------------------------------------------

def matmul_gflops(dtype_name: str = "float32") -> float:
    """This machine's measured dense matrix-product rate (GFLOP/s) at the shape of a
    decoding step of the embedded model (128 rows x 576 -> 1536, its MLP), the bound of a
    step on a CPU: best of 20 after a warm-up."""
    import torch

    dtype = getattr(torch, dtype_name)
    x, w = torch.randn(128, 576, dtype=dtype), torch.randn(576, 1536, dtype=dtype)
    best = float("inf")
    for _ in range(25):
        start = time.perf_counter()
        for _ in range(20):
            x @ w
        best = min(best, (time.perf_counter() - start) / 20)
    return 2 * 128 * 576 * 1536 / best / 1e9


def bench_hf(path: str, reqs: list[Request], loop_requests: int, batch_size: int | None,
             big: list[Request]) -> None:
    """The harness hf backend against what a competent user writes by hand: one batched
    ``model.generate`` call (left-padded rows, or ``num_return_sequences``), at several
    batch sizes, and a one-sample-at-a-time loop; float32 and bfloat16."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.backends.hf import HFBackend

    tok = AutoTokenizer.from_pretrained(path)
    tok.padding_side = "left"
    peak = {d: matmul_gflops(d) for d in ("float32", "bfloat16")}
    n_params = 0
    print(f"[hf] machine limit (measured matmul): float32 {peak['float32']:.0f} GFLOP/s, "
          f"bfloat16 {peak['bfloat16']:.0f} GFLOP/s", flush=True)

    def plain(model: Any, rs: list[Request], rows: int, nrs: bool = False) -> int:
        """Batched ``generate`` over ``rs`` in calls of ``rows`` rows; with ``nrs`` one
        row per prompt and ``num_return_sequences`` = its samples."""
        tokens = 0
        p = rs[0].params
        groups: list[list[Request]] = ([rs[i:i + rows] for i in range(0, len(rs), rows)]
                                       if not nrs else [rs])
        for g in groups:
            chats = ([r.chat for r in g] if not nrs
                     else list({r.messages: r.chat for r in g}.values()))
            texts = [tok.apply_chat_template(c, tokenize=False, add_generation_prompt=True)
                     for c in chats]
            enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
            torch.manual_seed(g[0].seed)
            with torch.inference_mode():
                out = model.generate(**enc, do_sample=True, temperature=p.temperature,
                                     top_p=p.top_p, top_k=0, max_new_tokens=p.max_tokens,
                                     pad_token_id=tok.eos_token_id,
                                     num_return_sequences=len(g) // len(chats) if nrs else 1)
            new = out[:, enc["input_ids"].shape[1]:]
            tokens += int((new != tok.eos_token_id).sum())
        return tokens

    results: dict[str, float] = {}
    for dtype in ("float32", "bfloat16"):
        model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype)).eval()
        n_params = sum(p.numel() for p in model.parameters())
        plain(model, reqs[:4], 4)  # warm-up
        print(f"\n  {dtype}, {len(reqs)} requests:", flush=True)
        results[f"plain {dtype} small"] = timed(
            f"plain generate, {len(reqs)} rows/call",
            lambda m=model: plain(m, reqs, len(reqs)))
        results[f"nrs {dtype} small"] = timed(
            "plain generate, num_return_sequences", lambda m=model: plain(m, reqs, 0, True))
        backend = HFBackend(path, batch_size=batch_size, dtype=dtype)
        results[f"hf {dtype} small"] = timed(
            f"harness hf backend ({backend.batch_size} rows)",
            lambda b=backend: list(b.generate(reqs)))
        print(f"\n  {dtype}, {len(big)} requests:", flush=True)
        best = 0.0
        for rows in (8, 32, 64, 128):
            best = max(best, timed(f"plain generate, {rows} rows/call",
                                   lambda m=model, r=rows: plain(m, big, r)))
        results[f"plain {dtype} big"] = best
        results[f"hf {dtype} big"] = timed(f"harness hf backend ({backend.batch_size} rows)",
                                           lambda b=backend: list(b.generate(big)))
        achieved = results[f"hf {dtype} big"] * 2 * n_params / 1e9
        print(f"  achieved: {achieved:.0f} GFLOP/s of {peak[dtype]:.0f} measured "
              f"({achieved / peak[dtype]:.0%}; 2 x {n_params / 1e6:.0f}M parameters per token)",
              flush=True)
        backend.close()
        if dtype == "float32" and loop_requests:
            subset = reqs[:loop_requests]

            def loop(m: Any = model, subset: list[Request] = subset) -> int:
                tokens = 0
                for r in subset:
                    text = tok.apply_chat_template(r.chat, tokenize=False,
                                                   add_generation_prompt=True)
                    enc = tok(text, return_tensors="pt", add_special_tokens=False)
                    torch.manual_seed(r.seed)
                    with torch.inference_mode():
                        out = m.generate(**enc, do_sample=True, temperature=r.params.temperature,
                                         top_p=r.params.top_p, top_k=0,
                                         max_new_tokens=r.params.max_tokens,
                                         pad_token_id=tok.eos_token_id)
                    tokens += out.shape[1] - enc["input_ids"].shape[1]
                return tokens

            results["loop"] = timed(f"plain generate loop ({len(subset)} req)", loop)
    print()
    ratio(f"hf float32 / the better of the two plain generate calls ({len(reqs)} rows)",
          results["hf float32 small"],
          max(results["plain float32 small"], results["nrs float32 small"]), 1.3)
    ratio(f"hf float32 / best plain batched generate ({len(big)} rows)",
          results["hf float32 big"], results["plain float32 big"], 1.0)
    ratio("hf bfloat16 / best plain bfloat16 generate", results["hf bfloat16 big"],
          results["plain bfloat16 big"], 1.0)
    if "loop" in results:
        ratio("hf float32 / one-sample loop", results["hf float32 small"], results["loop"], 4.0)
    speedup = results["hf bfloat16 big"] / results["hf float32 big"]
    print(f"  hf bfloat16 / hf float32: {speedup:.2f}x (bfloat16 texts depend on batch "
          "mates; docs/performance.md)\n", flush=True)
    bench_padding(path, reqs, big, rounds=2)


def bench_padding(path: str, reqs: list[Request], big: list[Request], rounds: int) -> None:
    """The cost of issue 29's fix, the same float32 backend in three set-ups, alternating,
    best of ``rounds`` each: plain products on exactly the active rows and float32
    attention (before), every product on whole 16-row blocks (``harness.backends.rows``),
    and both with attention in float64 over a float64 cache (``harness.backends.attention``,
    what the harness runs)."""
    import torch
    from transformers import DynamicCache

    from harness.backends import attention
    from harness.backends.hf import HFBackend
    from harness.backends.rows import stabilize

    backend = HFBackend(path)
    linears = [m for m in backend.model.modules() if isinstance(m, torch.nn.Linear)]
    wide = attention.new_cache
    setups = {"plain products, float32 attention (before)": (False, False),
              "16-row blocks, float32 attention": (True, False),
              "16-row blocks, float64 attention (now)": (True, True)}

    def run(rs: list[Request], padded: bool, wide_cache: bool) -> list[Generation]:
        for module in linears:
            module.__dict__.pop("forward", None)  # plain nn.Linear.forward
        if padded:
            stabilize(backend.model)
        attention.new_cache = (  # type: ignore[assignment]
            wide if wide_cache else lambda device: DynamicCache())
        return list(backend.generate(rs))

    print(f"[padding] float32, {backend.batch_size} rows; " + "; ".join(setups), flush=True)
    for rs in (reqs, big):
        best = dict.fromkeys(setups, 0.0)
        for _ in range(rounds):
            for name, (padded, wide_cache) in setups.items():
                best[name] = max(best[name], timed(
                    f"{len(rs)} requests, {name}",
                    lambda p=padded, w=wide_cache, r=rs: run(r, p, w)))
        before = best["plain products, float32 attention (before)"]
        for name in list(setups)[1:]:
            print(f"  => {name} / before, {len(rs)} requests: {best[name] / before:.2f}x the "
                  f"rate ({best[name]:.1f} vs {before:.1f} tok/s, best of {rounds})",
                  flush=True)
        print(flush=True)
    run(reqs[:1], True, True)  # leave the backend as the harness builds it
    backend.close()


# -- vllm -------------------------------------------------------------------------------

def bench_vllm(path: str, reqs: list[Request], eager: bool, rounds: int) -> None:
    from vllm import SamplingParams as VSP
    from vllm.inputs import TokensPrompt

    from harness.backends.vllm import VLLMBackend

    print(f"[vllm] {len(reqs)} requests; starting the engine (eager={eager})...", flush=True)
    start = time.perf_counter()
    backend = VLLMBackend(path, enforce_eager=eager)
    print(f"  engine start {time.perf_counter() - start:.0f} s", flush=True)
    groups: dict[tuple, list[Request]] = {}
    for r in reqs:
        groups.setdefault(r.messages, []).append(r)

    def raw() -> int:
        prompts, params = [], []
        for group in groups.values():
            p = group[0].params
            ids = backend.tokenizer(backend.render(group[0].chat),
                                    add_special_tokens=False)["input_ids"]
            prompts.append(TokensPrompt(prompt_token_ids=ids))
            params.append(VSP(n=len(group), temperature=p.temperature, top_p=p.top_p,
                              max_tokens=p.max_tokens, seed=group[0].seed))
        outs = backend.llm.generate(prompts, params, use_tqdm=False)
        return sum(len(c.token_ids) for o in outs for c in o.outputs)

    list(backend.generate(reqs[: len(reqs) // 4]))  # warm-up: compile, caches
    raw_rates, harness_rates = [], []
    for _ in range(rounds):  # interleaved, best of each: the machine may be shared
        raw_rates.append(timed("raw vllm.LLM.generate", raw))
        harness_rates.append(timed("harness vllm backend", lambda: list(backend.generate(reqs))))
    ratio("vllm backend / raw LLM.generate (best of rounds)", max(harness_rates),
          max(raw_rates), 0.95)
    backend.close()


# -- openai -----------------------------------------------------------------------------

def start_server(path: str, eager: bool, log: Path) -> tuple[subprocess.Popen, str]:
    """Start ``vllm serve`` on a free 127.0.0.1 port; return the process and /v1 URL."""
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", path,
           "--served-model-name", "smollm2", "--host", "127.0.0.1", "--port", str(port),
           "--dtype", "float32", "--enable-prefix-caching", "--disable-log-stats",
           # seeded requests crash vLLM-CPU's chunked prefill (see harness/backends/vllm.py)
           "--no-enable-chunked-prefill"]
    if eager:
        cmd.append("--enforce-eager")
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"vllm serve exited; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc, f"http://127.0.0.1:{port}/v1"
        except httpx.HTTPError:
            pass
        time.sleep(2)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError(f"vllm serve not healthy after 900 s; see {log}")


def bench_openai(path: str, reqs: list[Request], eager: bool, concurrency: int,
                 rounds: int) -> None:
    import httpx

    from harness.backends.openai import OpenAIBackend
    from harness.backends.server import Server

    log = Path("/tmp/harness-bench-vllm-serve.log")
    print(f"[openai] {len(reqs)} requests, concurrency {concurrency}; starting vllm serve "
          f"(eager={eager}, log {log})...", flush=True)
    start = time.perf_counter()
    proc, url = start_server(path, eager, log)
    print(f"  server start {time.perf_counter() - start:.0f} s", flush=True)
    try:
        backend = OpenAIBackend(Server(base_url=url, model="smollm2", concurrency=concurrency,
                                       timeout=600), path)

        async def raw_async() -> int:
            sem = asyncio.Semaphore(concurrency)
            async with httpx.AsyncClient(timeout=600, limits=httpx.Limits(
                    max_connections=concurrency)) as client:
                async def one(r: Request) -> int:
                    p = r.params
                    body = {"model": "smollm2", "messages": r.chat, "temperature": p.temperature,
                            "top_p": p.top_p, "max_tokens": p.max_tokens, "seed": r.seed}
                    async with sem:
                        resp = await client.post(url + "/chat/completions", json=body)
                    return resp.json()["usage"]["completion_tokens"]

                return sum(await asyncio.gather(*(one(r) for r in reqs)))

        list(backend.generate(reqs[: len(reqs) // 4]))  # warm-up
        raw_rates, harness_rates = [], []
        for _ in range(rounds):
            raw_rates.append(timed("raw async httpx client", lambda: asyncio.run(raw_async())))
            harness_rates.append(timed("harness openai backend",
                                       lambda: list(backend.generate(reqs))))
        ratio("openai backend / raw httpx (best of rounds)", max(harness_rates),
              max(raw_rates), 0.9)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="hf,vllm,openai",
                    help="hf, padding (part of hf), vllm, openai")
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--big-prompts", type=int, default=32,
                    help="hf: prompts of the larger workload (x --samples rows)")
    ap.add_argument("--batch-size", type=int, default=None,
                    help="hf backend rows (default: its own choice)")
    ap.add_argument("--loop-requests", type=int, default=8,
                    help="requests for the sequential loop (0: all)")
    ap.add_argument("--concurrency", type=int, default=32, help="openai concurrency")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--eager", action="store_true", help="vLLM without torch.compile")
    args = ap.parse_args()
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")

    from harness.backends.models import resolve

    path = resolve("smollm2-135m", print)
    reqs = workload(args.prompts, args.samples, args.max_tokens)
    print(machine_line(f"torch {_version('torch')}", f"transformers {_version('transformers')}",
                       kernel_libraries()))
    print(f"workload: {args.prompts} prompts x {args.samples} samples x {args.max_tokens} "
          f"new tokens = {len(reqs)} requests; {os.cpu_count()} CPUs\n", flush=True)
    parts = args.parts.split(",")
    big = workload(args.big_prompts, args.samples, args.max_tokens)
    if "hf" in parts:
        bench_hf(path, reqs, args.loop_requests, args.batch_size, big)
    elif "padding" in parts:
        bench_padding(path, reqs, big, args.rounds)
    for part in ("vllm", "openai"):
        if part not in parts:
            continue
        try:
            import vllm  # noqa: F401
        except ImportError as exc:
            print(f"[{part}] skipped: vLLM is not importable ({exc})\n", flush=True)
            continue
        if part == "vllm":
            bench_vllm(path, reqs, args.eager, args.rounds)
        else:
            bench_openai(path, reqs, args.eager, args.concurrency, args.rounds)


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    main()
