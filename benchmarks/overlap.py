"""Benchmark the verbatim-overlap search (``SourceIndex.match_lengths``, behind
``max_verbatim_span``, ``ngram_containment_8`` and the report's highlighted overlaps): the
old per-position suffix-array search, kept here verbatim, against the current backward
search, on samples of 1k, 10k and 100k tokens, then the current one on a 20 MB response.

    python benchmarks/overlap.py [--sizes 1000 10000 100000] [--big-mb 20] [--old-budget 300]

The corpus is ~10 MB of seeded Zipf-like text (3,700 documents, 20,000-word vocabulary);
each sample alternates passages copied from it (5-200 tokens) with fresh text from the same
vocabulary. The old search copied the rest of the sample at every position, so it is
O(T^2): it runs only where its time, extrapolated quadratically from the previous size,
stays within ``--old-budget`` seconds. Both must return identical match lengths.
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

_sys.path.insert(0, str(_Path(__file__).parent))
_sys.path.insert(1, str(_Path(__file__).resolve().parent.parent))  # for tests.metrics.synthetic
import argparse
import json
import random
import resource
import tempfile
import time
from array import array
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from _machine import machine_line  # noqa: E402

from harness.metrics import Resources, SampleContext, score_samples, verbatim_overlaps
from harness.metrics.overlap import SourceIndex, suffix_array
from harness.metrics.tokenize import tokenize
from tests.metrics.synthetic import synthetic_texts

_UNKNOWN = -(2**62)


class OldSourceIndex:
    """The index as it was before the backward search (a copy, for comparison only)."""

    def __init__(self, documents: Sequence[str]) -> None:
        self._vocab: dict[str, int] = {}
        ids: list[int] = []
        for d, doc in enumerate(documents):
            ids.extend(self._vocab.setdefault(t, len(self._vocab)) for t in tokenize(doc))
            ids.append(-(d + 1))
        self._text = array("q", ids)
        self._sa = suffix_array(np.asarray(ids, np.int64)).tolist()

    def match_lengths(self, tokens: Sequence[str]) -> list[int]:
        pattern = array("q", (self._vocab.get(t, _UNKNOWN) for t in tokens))
        text, sa = self._text, self._sa
        out = []
        for i in range(len(pattern)):
            pat = pattern[i:]
            if pat[0] == _UNKNOWN:
                out.append(0)
                continue
            m = len(pat)
            lo, hi = 0, len(sa)
            while lo < hi:
                mid = (lo + hi) // 2
                s = sa[mid]
                if text[s : s + m] < pat:
                    lo = mid + 1
                else:
                    hi = mid
            best = 0
            for j in (lo - 1, lo):
                if 0 <= j < len(sa):
                    s = sa[j]
                    cand = text[s : s + m]
                    k = 0
                    for a, b in zip(cand, pat, strict=False):
                        if a != b:
                            break
                        k += 1
                    best = max(best, k)
            out.append(best)
        return out


def sample_tokens(docs: list[list[str]], fresh: list[str], size: int, seed: int) -> list[str]:
    """``size`` tokens: passages of 5-200 tokens copied from ``docs`` alternating with runs
    of 5-200 tokens of ``fresh``."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < size:
        doc = docs[rng.randrange(len(docs))]
        k = rng.randint(5, 200)
        start = rng.randrange(max(1, len(doc) - k))
        out += doc[start : start + k]
        f = rng.randrange(len(fresh) - 200)
        out += fresh[f : f + rng.randint(5, 200)]
    return out[:size]


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    ap.add_argument("--big-mb", type=float, default=20.0, help="size of the big response")
    ap.add_argument("--old-budget", type=float, default=300.0,
                    help="skip the old search where its extrapolated time exceeds this (s)")
    args = ap.parse_args()

    print(machine_line(f"numpy {np.__version__}"))
    docs = synthetic_texts(3700, 600, seed=9, vocab=20000)
    fresh = tokenize(" ".join(synthetic_texts(2000, 600, seed=10, vocab=20000)))
    doc_tokens = [tokenize(d) for d in docs]
    print(f"corpus: {len(docs)} documents, {sum(map(len, docs)) / 1e6:.1f} MB, "
          f"{sum(map(len, doc_tokens)):,} tokens")
    new, new_build = timed(SourceIndex, docs)
    old, old_build = timed(OldSourceIndex, docs)
    print(f"index build: old {old_build:.2f} s, new {new_build:.2f} s\n")

    print("| sample tokens | old match_lengths | new match_lengths | old / new | identical |")
    print("|---:|---:|---:|---:|:---:|")
    old_last: tuple[int, float] | None = None
    for size in args.sizes:
        tokens = sample_tokens(doc_tokens, fresh, size, seed=size)
        ms_new, t_new = timed(new.match_lengths, tokens)
        predicted = old_last[1] * (size / old_last[0]) ** 2 if old_last else 0.0
        if predicted <= args.old_budget:
            ms_old, t_old = timed(old.match_lengths, tokens)
            old_last = (size, t_old)
            same = "yes" if ms_old == ms_new else "**NO**"
            print(f"| {size:,} | {t_old:.3f} s | {t_new:.3f} s | {t_old / t_new:,.0f}x | {same} |")
        else:
            print(f"| {size:,} | skipped (~{predicted:,.0f} s extrapolated) | {t_new:.3f} s "
                  f"| ≥ {predicted / t_new:,.0f}x | - |")

    # the case: one big response, scored end to end (tokenizing, the context
    # index, the corpus index, both metrics) with the corpus given as a sources file
    target = int(args.big_mb * 1_000_000)
    parts, length, k = [], 0, 0
    while length < target:
        chunk = " ".join(sample_tokens(doc_tokens, fresh, 50_000, seed=k))
        parts.append(chunk)
        length += len(chunk) + 1
        k += 1
    big = " ".join(parts)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        corpus.write_text("".join(json.dumps({"text": d}) + "\n" for d in docs), "utf-8")
        resources = Resources(source_paths=[corpus])
        _, t_index = timed(lambda: resources.sources)
        tokens, t_tok = timed(tokenize, big)
        _, t_match = timed(resources.sources.match_lengths, tokens)
        ctx = SampleContext(messages=[], prompt_text="Write a long answer.", examples=[])
        got, t_score = timed(
            score_samples, ["max_verbatim_span", "ngram_containment_8"], [big], [ctx], resources
        )
        ranges, t_overlaps = timed(verbatim_overlaps, big, ctx, resources)
    print(f"\n{len(big) / 1e6:.1f} MB response, {len(tokens):,} tokens (new search only):")
    print(f"  corpus index from the sources file: {t_index:.2f} s")
    print(f"  tokenize: {t_tok:.2f} s, corpus match_lengths: {t_match:.2f} s "
          f"({t_match / len(tokens) * 1e6:.2f} µs/token)")
    print(f"  score_samples(max_verbatim_span, ngram_containment_8), end to end: {t_score:.2f} s"
          f"  -> {got['max_verbatim_span'][0]:.0f}, {got['ngram_containment_8'][0]:.4f}")
    print(f"  verbatim_overlaps (match lengths cached by the metrics): {t_overlaps:.2f} s, "
          f"{len(ranges):,} highlighted ranges")
    if old_last:
        size, t_old = old_last
        guess = t_old * (len(tokens) / size) ** 2
        print(f"  old search, extrapolated quadratically from {size:,} tokens: "
              f"~{guess:,.0f} s (~{guess / 3600:,.1f} h; ratio ~{guess / t_match:,.0f}x)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS of this process (both indexes, all samples): {peak:,.0f} MB")


if __name__ == "__main__":
    main()
