"""Copying / plagiarism: verbatim overlap of a sample with its sources -- the few-shot
examples and the prompt it was generated from, plus the suite's ``sources:`` corpus.

For each position ``i`` of a sample, ``SourceIndex.match_lengths`` finds the *matching
statistic* ``ms[i]``: the length of the longest token span starting at ``i`` that occurs
verbatim in some source document (spans never cross documents). Both overlap metrics
derive from ``ms``.

``SourceIndex`` is an FM-index-style index over the source tokens: a suffix array (numpy
prefix doubling, O(n log n)), its LCP array (from the doubling ranks), the nearest smaller
LCP values on each side, and, per token, the sorted suffix-array rows whose suffix it
precedes (the Burrows-Wheeler transform, grouped). ``ms`` is computed right to left by
backward search (Ohlebusch, Gog & Kügel 2010, "Computing matching statistics and maximal
exact matches on compressed full-text indexes", SPIRE): the suffix-array interval of the
current match ``sample[i+1 : i+1+l]`` is extended by ``sample[i]`` with two binary searches;
when that fails, the interval is widened to its parent in the (virtual) suffix tree, which
shortens the match from the right, until the extension succeeds. Since
``ms[i] <= ms[i+1] + 1`` and each widening shortens the match, a sample of ``T`` tokens
costs at most ``2T`` extension attempts (two binary searches each) and ``T`` widenings:
O(T log n) for n source tokens, however long the copied spans are (comparing each
position's remaining span against the suffix array was O(T^2) on long samples).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Sequence

import numpy as np

from harness.metrics.registry import SAMPLE, Resources, SampleContext, metric
from harness.metrics.resources import PROVIDERS
from harness.metrics.tokenize import token_spans, tokenize


def _prefix_doubling(ids: np.ndarray, levels: list[np.ndarray] | None) -> np.ndarray:
    """The suffix array of ``ids``; with ``levels``, append to it ``rank_j`` for j = 0, 1,
    ...: the suffixes' ranks by their first ``2**j`` items (for p != q, ``rank_j[p] ==
    rank_j[q]`` iff both suffixes have ``2**j`` items and those agree), with an extra -1 at
    index n, up to the first j at which all suffixes differ (not appended)."""
    n = len(ids)
    if n == 0:
        return np.zeros(0, np.int64)
    rank = np.unique(ids, return_inverse=True)[1].astype(np.int64).reshape(-1)
    pos = np.arange(n)
    k = 1
    while True:
        if levels is not None:
            level = np.empty(n + 1, np.int32 if n < 2**31 - 1 else np.int64)
            level[:n], level[n] = rank, -1
            levels.append(level)
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


def suffix_array(ids: np.ndarray) -> np.ndarray:
    """Return the suffix array of the integer sequence ``ids`` (prefix doubling)."""
    return _prefix_doubling(ids, None)


def _lcp_array(sa: np.ndarray, levels: list[np.ndarray]) -> np.ndarray:
    """``lcp[r]`` = length of the longest common prefix of the suffixes at rows ``r - 1``
    and ``r`` of ``sa``, for 0 < r < n; ``lcp[0] = lcp[n] = -1``. Exact, from the doubling
    ranks: descending j, add ``2**j`` where the next ``2**j`` items still agree (all
    suffixes differ within ``2**len(levels)`` items, so the sum cannot overshoot)."""
    n = len(sa)
    lcp = np.full(n + 1, -1, np.int64)
    if n > 1:
        a, b = sa[:-1], sa[1:]
        h = np.zeros(n - 1, np.int64)
        for j in range(len(levels) - 1, -1, -1):
            rank = levels[j]
            h[rank[a + h] == rank[b + h]] += 1 << j
        lcp[1:n] = h
    return lcp


def _nearest_smaller(lcp: list[int], typecode: str) -> tuple[array, array]:
    """``(psv, nsv)``: for each r, the nearest index left (right) of r whose lcp is strictly
    smaller than ``lcp[r]`` (0 / len - 1 where there is none; ``lcp`` has -1 at both
    ends). One pass with a stack, O(n)."""
    size = len(lcp)
    psv = [0] * size
    nsv = [size - 1] * size
    stack = [0]
    for y in range(1, size):
        v = lcp[y]
        while stack and lcp[stack[-1]] > v:
            nsv[stack.pop()] = y
        if stack:
            top = stack[-1]
            psv[y] = psv[top] if lcp[top] == v else top
        stack.append(y)
    return array(typecode, psv), array(typecode, nsv)


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
        text = np.asarray(ids, np.int64)
        del ids
        n = self._n = len(text)
        typecode = "i" if n < 2**31 - 1 else "q"
        levels: list[np.ndarray] = []
        sa = _prefix_doubling(text, levels)
        lcp = _lcp_array(sa, levels)
        del levels
        # Token c's suffixes are rows first[c] .. first[c] + count[c] - 1 (rows are sorted
        # by first token). occ holds the rows r whose suffix is preceded by a token (the
        # BWT: text[sa[r] - 1]), grouped by that token, ascending within each group
        # (occ[start[c] : start[c] + count[c]]); the suffix ``c + suffix(r)`` then sits
        # at row first[c] + (number of c-rows before r): the LF mapping.
        bwt = np.full(n, -1, np.int64)
        bwt[sa > 0] = text[sa[sa > 0] - 1]
        bwt[bwt < 0] = -1  # separators and the text start: never a sample token
        order = np.argsort(bwt, kind="stable")
        tokens = np.arange(len(self._vocab))
        start = np.searchsorted(bwt[order], tokens)
        count = np.searchsorted(bwt[order], tokens, "right") - start
        first = np.searchsorted(text[sa], tokens)
        self._occ = array(typecode, order.astype(typecode).tobytes())
        # per token: (first occ index, one past the last, row offset, first row)
        self._token_rows = list(
            zip(
                start.tolist(),
                (start + count).tolist(),
                (first - start).tolist(),
                first.tolist(),
                strict=True,
            )
        )
        lcp_list = lcp.tolist()
        self._lcp = array(typecode, lcp.astype(typecode).tobytes())
        del sa, text, bwt, order, lcp
        self._psv, self._nsv = _nearest_smaller(lcp_list, typecode)

    def match_lengths(self, tokens: Sequence[str]) -> list[int]:
        """Return ``ms`` with ``ms[i]`` = length of the longest prefix of ``tokens[i:]`` that
        occurs verbatim in a source document. O(len(tokens) log n) for n source tokens."""
        vocab, rows = self._vocab, self._token_rows
        pattern = [vocab.get(t, -1) for t in tokens]
        out = [0] * len(pattern)
        occ, lcp, psv, nsv = self._occ, self._lcp, self._psv, self._nsv
        # invariant: rows lb .. rb-1 are the suffixes starting with the current match
        # tokens[i+1 : i+1+depth] (depth 0: no match)
        lb = rb = depth = 0
        for i in range(len(pattern) - 1, -1, -1):
            c = pattern[i]
            if c < 0:  # in no source: matches nothing
                depth = 0
                continue
            lo, hi, offset, first = rows[c]
            while depth:
                # the rows of tokens[i : i+1+depth]: c-rows of the BWT within lb .. rb-1
                new_lb = bisect_left(occ, lb, lo, hi)
                new_rb = bisect_left(occ, rb, new_lb, hi)
                if new_lb < new_rb:
                    lb, rb = new_lb + offset, new_rb + offset
                    depth += 1
                    break
                # no: widen to the parent interval, whose depth is the larger lcp with the
                # row just outside (all shorter matches up to it have the same rows)
                left, right = lcp[lb], lcp[rb]
                if left >= right:
                    depth = left
                    lb = psv[lb]
                    if right == left:
                        rb = nsv[rb]
                else:
                    depth = right
                    rb = nsv[rb]
            else:  # the match is c alone: all of c's rows
                lb, rb, depth = first, first + hi - lo, 1
            out[i] = depth
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


PROVIDERS["source_index"] = SourceIndex
