"""Benchmark the metrics: Self-BLEU (harness vs the NLTK/Texygen loop) and the whole default
metric set, on N synthetic samples of ~60 tokens from a seeded Zipf-like vocabulary sampler.

    python benchmarks/metrics.py [--n 1000] [--nltk-subset 40] [--cell-size 8] [--perplexity]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

from harness.metrics import (
    DEFAULT_METRICS,
    METRICS,
    Resources,
    SampleContext,
    score_samples,
    score_set,
)
from harness.metrics.diversity import self_bleu_scores
from harness.metrics.tokenize import tokenize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.metrics.synthetic
from tests.metrics.synthetic import synthetic_texts  # noqa: E402


def vocabulary(size: int) -> list[str]:
    """``size`` real English words (whole-word entries of the MiniLM word-piece vocabulary,
    so the embedding cost is that of real text), or ``w0, w1, ...`` without the model."""
    try:
        from harness.metrics.embedding import model_dir

        lines = (model_dir() / "vocab.txt").read_text(encoding="utf-8").split()
        words = [w for w in lines if w.isalpha() and w.isascii() and len(w) > 1][:size]
    except Exception:  # noqa: BLE001 - any failure: fall back to made-up words
        words = []
    return words if len(words) == size else [f"w{i}" for i in range(size)]


def synthetic(n: int) -> list[str]:
    """``n`` texts of 30-90 (mean ~60) real words from a seeded Zipf sampler."""
    return synthetic_texts(n, 60, seed=0, vocab=5000, words=vocabulary(5000))


def bench_self_bleu(texts: list[str], subset: int) -> None:
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    tokens = [tokenize(t) for t in texts]
    n = len(tokens)
    start = time.perf_counter()
    ours = self_bleu_scores(tokens)
    ours_s = time.perf_counter() - start

    smooth = SmoothingFunction().method1
    start = time.perf_counter()
    theirs = [
        sentence_bleu(tokens[:i] + tokens[i + 1 :], tokens[i], smoothing_function=smooth)
        for i in range(subset)
    ]
    nltk_subset_s = time.perf_counter() - start
    nltk_s = nltk_subset_s * n / subset
    diff = max(abs(a - b) for a, b in zip(ours[:subset], theirs, strict=True))
    print(f"Self-BLEU over N={n} samples ({sum(map(len, tokens)) / n:.1f} tokens each on average)")
    print(f"  harness (all {n} hypotheses):        {ours_s:8.3f} s   mean = {np.mean(ours):.6f}")
    print(
        f"  NLTK sentence_bleu loop, {subset} hypotheses: {nltk_subset_s:8.3f} s"
        f"  -> extrapolated to all {n}: {nltk_s:.1f} s (linear: each hypothesis costs the same)"
    )
    print(f"  speed-up: {nltk_s / ours_s:.0f}x   max |harness - NLTK| on the subset: {diff:.2e}")


def bench_default(texts: list[str], cell_size: int, perplexity: bool) -> None:
    names = list(DEFAULT_METRICS)
    resources = Resources()
    if perplexity:
        from harness.backends.hf import HFBackend
        from harness.backends.models import resolve

        resources.scorer = HFBackend(resolve("smollm2-135m"))
    else:
        names.remove("perplexity")
    start = time.perf_counter()
    resources.embedder.encode(["warm up"])
    load_s = time.perf_counter() - start
    sample_names = [m for m in names if METRICS[m].kind == "sample"]
    set_names = [m for m in names if METRICS[m].kind == "set"]
    topics = ["the sea", "a city at night", "an old dog", "winter"]
    contexts = [
        SampleContext(
            messages=[{"role": "user", "content": f"Write about {topics[i % 4]}."}],
            prompt_text=f"Write about {topics[i % 4]}.",
            input_text=topics[i % 4],
            examples=[texts[(i + 7) % len(texts)][:200]],
        )
        for i in range(len(texts))
    ]
    timings: dict[str, float] = {}
    if perplexity:  # timed there, float32 and bfloat16 (scoring twice in float32 is slow)
        timings["perplexity"] = bench_perplexity(texts, contexts)
    for name in sample_names:
        if name == "perplexity":
            continue
        start = time.perf_counter()
        values = score_samples([name], texts, contexts, resources)[name]
        timings[name] = time.perf_counter() - start
        assert all(math.isfinite(v) for v in values)
    cells = [texts[i : i + cell_size] for i in range(0, len(texts), cell_size)]
    for name in set_names:
        start = time.perf_counter()
        for cell in cells:
            score_set([name], cell, resources)
        timings[name] = time.perf_counter() - start
    total = sum(timings.values())
    print(
        f"\nDEFAULT_METRICS on N={len(texts)} samples = {len(cells)} cells of {cell_size}"
        f" (embedding model load {load_s:.1f} s, not counted)"
    )
    if not perplexity:
        print("  perplexity EXCLUDED (no scorer; run with --perplexity to include the HF backend)")
    for name in names:
        print(f"  {name:22s} {METRICS[name].kind:6s} {timings[name]:8.3f} s")
    print(f"  total: {total:.2f} s per {len(texts)} samples")


def bench_perplexity(texts: list[str], contexts: list[SampleContext]) -> float:
    """Perplexity scoring rate, float32 (timed above) and bfloat16, in samples per minute
    and as 64-token samples per minute (text tokens / 64), against the target of 1,000
    64-token samples a minute; the bfloat16 drift in mean NLL per sample."""
    from harness.backends.hf import HFBackend
    from harness.backends.models import resolve

    path = resolve("smollm2-135m")
    prompts = [c.messages for c in contexts]
    fp32_backend = HFBackend(path)
    fp32_backend.score(prompts[:8], texts[:8])  # warm-up
    start = time.perf_counter()
    fp32 = fp32_backend.score(prompts, texts)
    fp32_s = time.perf_counter() - start
    tokens = sum(len(x) for x in fp32)
    bf16_backend = HFBackend(path, dtype="bfloat16")
    bf16_backend.score(prompts[:8], texts[:8])  # warm-up
    start = time.perf_counter()
    bf16 = bf16_backend.score(prompts, texts)
    bf16_s = time.perf_counter() - start
    drift = [abs(sum(a) / len(a) - sum(b) / len(b)) for a, b in zip(fp32, bf16, strict=True) if a]
    print(f"\nperplexity on {len(texts)} samples, {tokens} text tokens "
          f"({tokens / len(texts):.0f} per sample), {len({str(p) for p in prompts})} prompts:")
    for name, s in (("float32", fp32_s), ("bfloat16", bf16_s)):
        per64 = tokens / 64 / s * 60
        verdict = "ok" if per64 >= 1000 else "BELOW TARGET"
        print(f"  {name:9s} {s:7.1f} s  {len(texts) / s * 60:6.0f} samples/min  "
              f"{per64:6.0f} 64-token samples/min (target >= 1000: {verdict})")
    print(f"  bfloat16 drift: mean |delta mean NLL| {np.mean(drift):.4f}, max {max(drift):.4f}")
    return fp32_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--nltk-subset", type=int, default=40)
    parser.add_argument("--cell-size", type=int, default=8)
    parser.add_argument("--perplexity", action="store_true")
    args = parser.parse_args()
    texts = synthetic(args.n)
    bench_self_bleu(texts, min(args.nltk_subset, args.n))
    bench_default(texts, args.cell_size, args.perplexity)


if __name__ == "__main__":
    main()
