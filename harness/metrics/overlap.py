"""Copying / plagiarism: verbatim overlap of a sample with its sources -- the few-shot
examples and the prompt it was generated from, plus the suite's ``sources:`` corpus.

``SourceIndex`` holds a token suffix array over the source documents (built with numpy
prefix doubling, O(T log T)); for each position ``i`` of a sample it finds by binary search
the *matching statistic* ``ms[i]``: the length of the longest token span starting at ``i``
that occurs verbatim in some source document (spans never cross documents). Both overlap
metrics derive from ``ms``.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

import numpy as np

from harness.metrics.registry import SAMPLE, Resources, SampleContext, metric
from harness.metrics.tokenize import token_spans, tokenize

_UNKNOWN = -(2**62)  # id of a sample token that occurs in no source: matches nothing


def suffix_array(ids: np.ndarray) -> np.ndarray:
    """Return the suffix array of the integer sequence ``ids`` (prefix doubling)."""
    n = len(ids)
    if n == 0:
        return np.zeros(0, np.int64)
    rank = np.unique(ids, return_inverse=True)[1].astype(np.int64).reshape(-1)
    pos = np.arange(n)
    k = 1
    while True:
        second = np.zeros(n, np.int64)
        second[: n - k] = rank[k:] + 1 if k < n else 0
        key = rank * (n + 1) + second
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        new_group = np.ones(n, np.int64)
        new_group[1:] = sorted_key[1:] != sorted_key[:-1]
        rank = np.empty(n, np.int64)
        rank[order] = np.cumsum(new_group) - 1
        if rank[order[-1]] == n - 1 or k >= n:
            return pos[order]
        k *= 2


class SourceIndex:
    """A searchable index over source documents, on harness tokens."""

    def __init__(self, documents: Sequence[str]) -> None:
        self._vocab: dict[str, int] = {}
        ids: list[int] = []
        for d, doc in enumerate(documents):
            ids.extend(self._vocab.setdefault(t, len(self._vocab)) for t in tokenize(doc))
            ids.append(-(d + 1))  # a unique separator: no match crosses a document end
        self.n_documents = len(documents)
        self.n_tokens = len(ids) - len(documents)
        self._text = array("q", ids)
        self._sa = suffix_array(np.asarray(ids, np.int64)).tolist()

    def match_lengths(self, tokens: Sequence[str]) -> list[int]:
        """Return ``ms`` with ``ms[i]`` = length of the longest prefix of ``tokens[i:]`` that
        occurs verbatim in a source document."""
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


def _context_index(ctx: SampleContext, resources: Resources) -> SourceIndex:
    key = (ctx.prompt_text, *ctx.examples)
    index = resources.context_indexes.get(key)
    if index is None:
        index = resources.context_indexes[key] = SourceIndex([*ctx.examples, ctx.prompt_text])
    return index


def match_lengths(text: str, ctx: SampleContext, resources: Resources) -> list[int]:
    """``ms`` of ``text`` against its context's examples and prompt and the source corpus:
    the element-wise maximum over the indexes. Memoized in ``resources`` so the two overlap
    metrics search once."""
    key = (text, ctx.prompt_text, *ctx.examples)
    ms = resources.match_cache.get(key)
    if ms is None:
        tokens = tokenize(text)
        ms = _context_index(ctx, resources).match_lengths(tokens)
        corpus = resources.sources
        if corpus is not None:
            ms = [max(a, b) for a, b in zip(ms, corpus.match_lengths(tokens), strict=True)]
        if len(resources.match_cache) > 100_000:
            resources.match_cache.clear()
        resources.match_cache[key] = ms
    return ms


def verbatim_overlaps(
    text: str, ctx: SampleContext, resources: Resources, min_tokens: int = 8
) -> list[tuple[int, int]]:
    """Return the merged ``(start, end)`` character ranges of ``text`` covered by verbatim
    spans of at least ``min_tokens`` tokens found in its sources (for highlighting)."""
    spans = token_spans(text)
    ranges: list[tuple[int, int]] = []
    for i, length in enumerate(match_lengths(text, ctx, resources)):
        if length >= min_tokens:
            start, end = spans[i][0], spans[i + length - 1][1]
            if ranges and start <= ranges[-1][1]:
                ranges[-1] = (ranges[-1][0], max(end, ranges[-1][1]))
            else:
                ranges.append((start, end))
    return ranges


@metric(
    "max_verbatim_span",
    bounds=(0.0, None),
    kind=SAMPLE,
    description="longest token span copied verbatim from the examples, prompt or sources",
    source="longest common substring (cf. McCoy et al. 2023, RAVEN), on harness tokens",
    higher_is="worse",
    needs=("sources",),
)
def max_verbatim_span(
    texts: list[str], contexts: list[SampleContext], resources: Resources
) -> list[float]:
    """``max_i ms[i]``: the length in tokens of the longest span of the sample that occurs
    verbatim in one of its sources -- the few-shot examples, the prompt, and the suite's
    source corpus (cf. McCoy et al. 2023, "How much do language models copy from their
    training data?"). Tokens are harness tokens (lower-cased, punctuation ignored).
    0.0 for an empty text."""
    return [
        float(max(match_lengths(t, c, resources), default=0))
        for t, c in zip(texts, contexts, strict=True)
    ]


@metric(
    "ngram_containment_8",
    bounds=(0.0, 1.0),
    kind=SAMPLE,
    description="share of the sample's 8-grams found verbatim in the examples, prompt or sources",
    source="n-gram containment (Broder 1997); 8-gram overlap as in Lee et al. 2022",
    higher_is="worse",
    needs=("sources",),
)
def ngram_containment_8(
    texts: list[str], contexts: list[SampleContext], resources: Resources
) -> list[float]:
    """``|{i : ms[i] >= 8}| / (T - 7)``: the share of the sample's T-7 token 8-gram
    occurrences that occur in a source (containment, Broder 1997; n-gram overlap as a
    memorization measure as in Lee et al. 2022, "Deduplicating Training Data"). 0.0 for a
    text of fewer than 8 tokens."""
    out = []
    for t, c in zip(texts, contexts, strict=True):
        ms = match_lengths(t, c, resources)
        grams = len(ms) - 7
        out.append(sum(m >= 8 for m in ms[:grams]) / grams if grams > 0 else 0.0)
    return out
