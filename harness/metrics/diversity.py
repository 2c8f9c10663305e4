"""Set-level diversity metrics over the samples of one cell (and per-sample variants).

All token-based metrics use ``harness.metrics.tokenize.tokenize``; n-grams never cross
sample boundaries.
"""

from __future__ import annotations

import bisect
import gzip
import io
import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from harness.metrics.registry import SAMPLE, SET, Resources, SampleContext, metric
from harness.metrics.tokenize import ngrams, tokenize

# ---------------------------------------------------------------------------- distinct-n


def distinct_n(token_lists: Sequence[Sequence[str]], n: int) -> float:
    """Corpus-level distinct-n (Li et al. 2016): ``|unique n-grams| / |n-grams|`` over all
    samples together; 0.0 when there is no n-gram at all."""
    counts: Counter[tuple[str, ...]] = Counter()
    for tokens in token_lists:
        counts.update(ngrams(tokens, n))
    total = sum(counts.values())
    return len(counts) / total if total else 0.0


def _register_distinct(n: int) -> None:
    def set_fn(texts: list[str], resources: Resources) -> float:
        return distinct_n([tokenize(t) for t in texts], n)

    set_fn.__doc__ = f"""distinct-{n}: ``|unique {n}-grams| / |{n}-grams|`` pooled over the set.

    Source: Li et al. 2016, "A Diversity-Promoting Objective Function for Neural
    Conversation Models". 0.0 for a set without any {n}-gram. (Holtzman et al.'s
    ``distinct_n.py`` counts n-grams seen exactly once instead; we follow Li et al.)
    """

    def sample_fn(
        texts: list[str], contexts: list[SampleContext], resources: Resources
    ) -> list[float]:
        return [distinct_n([tokenize(t)], n) for t in texts]

    sample_fn.__doc__ = f"""distinct-{n} of each sample alone: ``|unique {n}-grams| / |{n}-grams|``.

    Source: Li et al. 2016 (per response). 0.0 for a text with fewer than {n} tokens.
    """
    metric(
        f"distinct_{n}",
        kind=SET,
        description=f"unique {n}-grams / all {n}-grams, pooled over one input's samples",
        source="Li et al. 2016, arXiv:1510.03055",
        higher_is="diverse",
        bounds=(0.0, 1.0),
    )(set_fn)
    metric(
        f"distinct_{n}_sample",
        kind=SAMPLE,
        description=f"unique {n}-grams / all {n}-grams within one sample",
        source="Li et al. 2016, arXiv:1510.03055",
        higher_is="diverse",
        bounds=(0.0, 1.0),
    )(sample_fn)


for _n in (1, 2, 3):
    _register_distinct(_n)

# ---------------------------------------------------------------------------- Self-BLEU


def _ngram_ids(token_lists: Sequence[Sequence[str]], max_n: int):
    """Yield ``(n, gram_ids, sample_ids)`` for n = 1..max_n: the dense id of every n-gram
    occurrence and the sample it occurs in."""
    vocab: dict[str, int] = {}
    flat = np.fromiter(
        (vocab.setdefault(t, len(vocab)) for tokens in token_lists for t in tokens), np.int64
    )
    lengths = np.fromiter((len(t) for t in token_lists), np.int64, len(token_lists))
    sample_of = np.repeat(np.arange(len(token_lists)), lengths)
    ends = np.repeat(np.cumsum(lengths), lengths)
    pos = np.arange(len(flat))
    gram = flat  # id of the (n-1)-gram starting at each position (valid where pos+n-1<=end)
    width = max(len(vocab), 1)
    for n in range(1, max_n + 1):
        if n == 1:
            idx, ids = pos, flat
        else:
            idx = pos[pos + n <= ends]
            key = gram[idx] * width + flat[idx + n - 1]
            ids = np.unique(key, return_inverse=True)[1].astype(np.int64).reshape(-1)
            gram = np.full(len(flat), -1, np.int64)
            gram[idx] = ids
        yield n, ids, sample_of[idx]


def _clipped_matches(gram_ids: np.ndarray, sample_ids: np.ndarray, n_samples: int) -> np.ndarray:
    """For each sample, sum over its distinct n-grams of ``min(count in sample, max count in
    any *other* sample)`` -- BLEU's clipped match count with all other samples as references.
    Needs only each n-gram's top two per-sample counts."""
    if len(gram_ids) == 0:
        return np.zeros(n_samples, np.int64)
    n_grams = int(gram_ids.max()) + 1
    pair, counts = np.unique(sample_ids * n_grams + gram_ids, return_counts=True)
    samp, gram = pair // n_grams, pair % n_grams
    order = np.lexsort((-counts, gram))
    samp, gram, counts = samp[order], gram[order], counts[order]
    first = np.ones(len(gram), bool)
    first[1:] = gram[1:] != gram[:-1]
    starts = np.flatnonzero(first)
    top1 = np.zeros(n_grams, np.int64)
    who1 = np.full(n_grams, -1, np.int64)
    top2 = np.zeros(n_grams, np.int64)
    top1[gram[starts]] = counts[starts]
    who1[gram[starts]] = samp[starts]
    second = starts + 1
    has_second = second < len(gram)
    has_second[has_second] &= ~first[second[has_second]]
    top2[gram[starts[has_second]]] = counts[second[has_second]]
    ref_max = np.where(samp == who1[gram], top2[gram], top1[gram])
    return np.bincount(samp, weights=np.minimum(counts, ref_max), minlength=n_samples)


def _closest_other_length(sorted_lengths: list[int], length: int) -> int:
    """NLTK's ``closest_ref_length`` over all lengths but one occurrence of ``length``:
    the nearest length, ties going to the shorter one."""
    lo = bisect.bisect_left(sorted_lengths, length)
    hi = bisect.bisect_right(sorted_lengths, length)
    if hi - lo >= 2:
        return length
    below = sorted_lengths[lo - 1] if lo > 0 else None
    above = sorted_lengths[hi] if hi < len(sorted_lengths) else None
    if below is None:
        return above  # type: ignore[return-value]
    if above is None or length - below <= above - length:
        return below
    return above


def self_bleu_scores(token_lists: Sequence[Sequence[str]], max_n: int = 4) -> list[float]:
    """Return each sample's BLEU against all the other samples as references, exactly as
    NLTK ``sentence_bleu(others, hyp, weights=(1/max_n,)*max_n,
    smoothing_function=SmoothingFunction().method1)`` computes it, in O(total tokens).

    Empty list for fewer than two samples (there are no references).
    """
    n_samples = len(token_lists)
    if n_samples < 2:
        return []
    numerators = np.zeros((max_n, n_samples), np.int64)
    for n, ids, samp in _ngram_ids(token_lists, max_n):
        numerators[n - 1] = np.rint(_clipped_matches(ids, samp, n_samples)).astype(np.int64)
    lengths = [len(t) for t in token_lists]
    sorted_lengths = sorted(lengths)
    weight = 1 / max_n
    scores = []
    for i, hyp_len in enumerate(lengths):
        if numerators[0, i] == 0:  # NLTK: no unigram match (or empty hypothesis) -> 0
            scores.append(0.0)
            continue
        log_sum = []
        for n in range(1, max_n + 1):
            num = int(numerators[n - 1, i])
            den = max(1, hyp_len - n + 1)
            p = (num + 0.1) / den if num == 0 else num / den  # method1, epsilon 0.1
            log_sum.append(weight * math.log(p))
        ref_len = _closest_other_length(sorted_lengths, hyp_len)
        bp = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)
        scores.append(bp * math.exp(math.fsum(log_sum)))
    return scores


@metric(
    "self_bleu",
    bounds=(0.0, 1.0),
    kind=SET,
    description="mean BLEU-4 of each sample against all others (lower = more diverse)",
    source="Zhu et al. 2018 (Texygen), arXiv:1802.01886; NLTK sentence_bleu, method1",
    higher_is="worse",
)
def self_bleu(texts: list[str], resources: Resources) -> float:
    """Self-BLEU: ``mean_i BLEU-4(hyp=s_i, refs={s_j : j != i})``.

    BLEU-4 is NLTK ``sentence_bleu`` with uniform weights (0.25,)*4 and
    ``SmoothingFunction().method1`` (epsilon 0.1 added to zero n-gram match counts), brevity
    penalty from the closest reference length (ties: shorter), exactly as Texygen's
    ``SelfBleu`` (Zhu et al. 2018) -- but computed in O(total tokens): the clipping count
    ``max_{j != i} count_j(g)`` needs only the top two per-sample counts of each n-gram.
    A hypothesis with no unigram in common with the others (or an empty one) scores 0.
    Fewer than two samples: 0.0 (no pairs to compare). Identical samples: 1.0.
    """
    scores = self_bleu_scores([tokenize(t) for t in texts])
    return math.fsum(scores) / len(scores) if scores else 0.0


# ---------------------------------------------------------------------------- compression


def diversity_compression_ratio(texts: Sequence[str]) -> float:
    """``diversity.compression_ratio(texts, "gzip")`` (Shaib et al. 2024), computed in
    memory with the same bytes: see ``compression_ratio``."""
    joined = " ".join(texts).encode("utf-8")
    inner = gzip.compress(joined)  # level 9
    buf = io.BytesIO()
    # the package writes the already-gzipped bytes through a second GzipFile named
    # compressed.gz, so the header carries the file name "compressed"
    with gzip.GzipFile(filename="compressed.gz", mode="wb", fileobj=buf) as f:
        f.write(inner)
    return round(len(joined) / len(buf.getvalue()), 3)


@metric(
    "compression_ratio",
    bounds=(0.0, None),
    kind=SET,
    description="bytes of the joined samples / gzip bytes (higher = more repetitive)",
    source="Shaib et al. 2024, arXiv:2403.00553; `diversity` package compression_ratio",
    higher_is="worse",
)
def compression_ratio(texts: list[str], resources: Resources) -> float:
    """Compression ratio: ``len(utf8(" ".join(texts))) / len(gz)``, rounded to 3 decimals.

    Source: Shaib et al. 2024 "Standardizing the Measurement of Text Diversity", reproduced
    byte for byte from the ``diversity`` package (v0.3.1, ``compression.py``; the package
    itself pins transformers<5 and imports spaCy, so it is not a dependency). Its quirks,
    kept so numbers match published ones:

    - ``gz`` is the text gzip-compressed *twice*: ``gzip.compress`` (level 9), then written
      through a ``GzipFile`` whose header holds the name ``compressed`` -- about 30 bytes
      more than single gzip, which lowers the ratio of small cells noticeably;
    - the result is rounded to 3 decimals;
    - an empty set (or all-empty texts) gives 0.0.
    """
    return diversity_compression_ratio(texts)


# ---------------------------------------------------------------------------- Zipf


def zipf_fit(token_lists: Sequence[Sequence[str]], top: int = 5000) -> float:
    """Least-squares slope ``a`` of ``log(freq) = a * log(rank) + b`` over the ``top`` most
    frequent tokens, returned as ``-a``; 0.0 with fewer than two distinct tokens."""
    counts = Counter(t for tokens in token_lists for t in tokens)
    ys = np.array(sorted(counts.values(), reverse=True)[:top], dtype=np.float64)
    if len(ys) < 2:
        return 0.0
    x = np.log(np.arange(1, len(ys) + 1, dtype=np.float64))
    y = np.log(ys)
    xc = x - x.mean()
    slope = float(np.dot(xc, y - y.mean()) / np.dot(xc, xc))
    return -slope


@metric(
    "zipf_coefficient",
    kind=SET,
    description="-slope of log token frequency vs log rank (higher = more skewed vocabulary)",
    source="Holtzman et al. 2020 (degen metrics/zipf.py), arXiv:1904.09751",
    higher_is="worse",
)
def zipf_coefficient(texts: list[str], resources: Resources) -> float:
    """Zipf coefficient: ``-a`` where ``log f_r = a log r + b`` is the least-squares line
    through the (rank, frequency) pairs of the 5,000 most frequent tokens pooled over the
    set (as ``scipy.stats.linregress`` in Holtzman et al.'s ``metrics/zipf.py``, which prints
    ``-a``; human text is near 1). 0.0 with fewer than two distinct tokens.
    """
    return zipf_fit([tokenize(t) for t in texts])


# ---------------------------------------------------------------------------- repetition


def repeating_loop(tokens: Sequence[str], max_n: int = 90) -> tuple[int, int] | None:
    """Holtzman et al.'s loop test: find the phrase length ``n`` (1..max_n) whose phrase is
    repeated back to back the most times at the *end* of ``tokens`` (smallest n on ties).
    Return ``(n, repeats)`` when ``repeats > 1`` and (``n >= 3`` or ``repeats > 50``),
    else None."""
    rev = list(reversed(tokens))
    if not rev:
        return None
    best_n, best_repeats = 1, 0
    for n in range(1, max_n + 1):
        head = rev[:n]
        repeats = 1
        while len(rev[n * repeats : n * (repeats + 1)]) == n and (
            rev[n * repeats : n * (repeats + 1)] == head
        ):
            repeats += 1
        if repeats > best_repeats:
            best_n, best_repeats = n, repeats
    if best_repeats > 1 and (best_n >= 3 or best_repeats > 50):
        return best_n, best_repeats
    return None


@metric(
    "repetition",
    bounds=(0.0, 1.0),
    kind=SET,
    description="share of samples that end in a repeating loop",
    source="Holtzman et al. 2020 (degen metrics/repetition.py), arXiv:1904.09751",
    higher_is="worse",
)
def repetition(texts: list[str], resources: Resources) -> float:
    """Share of samples ending in a loop: ``|{i : loop(s_i)}| / N`` where ``loop`` is
    Holtzman et al.'s test (``repeating_loop``): a phrase of 1..90 tokens repeated at
    least twice back to back at the very end, and either at least 3 tokens long or repeated
    more than 50 times. Their code runs on GPT-2 tokens; ours on harness tokens.
    Empty set: 0.0; an empty text counts as not looping.
    """
    if not texts:
        return 0.0
    return sum(repeating_loop(tokenize(t)) is not None for t in texts) / len(texts)


def repeated_ngram_share(tokens: Sequence[str], n: int = 4) -> float:
    """``1 - |unique n-grams| / |n-grams|`` of one token sequence; 0.0 without n-grams."""
    grams = list(ngrams(tokens, n))
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


@metric(
    "ngram_repetition",
    bounds=(0.0, 1.0),
    kind=SAMPLE,
    description="share of a sample's 4-grams that repeat an earlier 4-gram of that sample",
    source="Welleck et al. 2020 (seq-rep-4), arXiv:1908.04319",
    higher_is="worse",
)
def ngram_repetition(
    texts: list[str], contexts: list[SampleContext], resources: Resources
) -> list[float]:
    """seq-rep-4 of each sample: ``1 - |unique 4-grams| / |4-grams|`` (Welleck et al. 2020,
    "Neural Text Generation with Unlikelihood Training"). Its mean over a cell is their
    corpus-level seq-rep-4. 0.0 for a text with fewer than 4 tokens."""
    return [repeated_ngram_share(tokenize(t), 4) for t in texts]


# ---------------------------------------------------------------------------- homogenization


class _RougeTokenizer:
    """Adapter so rouge-score tokenizes with the harness tokenizer."""

    def tokenize(self, text: str) -> list[str]:
        return tokenize(text)


def rouge_l_scorer():
    """A rouge-score ``RougeScorer(["rougeL"])`` that tokenizes with the harness tokenizer
    (rouge-score's default drops every non-ASCII character, so Chinese would vanish)."""
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False, tokenizer=_RougeTokenizer())


@metric(
    "homogenization_rougel",
    bounds=(0.0, 1.0),
    kind=SET,
    description="mean pairwise ROUGE-L F1 between samples (higher = more homogeneous)",
    source="Padmakumar & He 2024, arXiv:2309.05196; `diversity` homogenization_score",
    higher_is="worse",
)
def homogenization_rougel(texts: list[str], resources: Resources) -> float:
    """Homogenization: ``mean_{i != j} ROUGE-L F1(s_i, s_j)`` with rouge-score (no stemming)
    on harness tokens -- Padmakumar & He 2024 as implemented by the ``diversity`` package's
    ``homogenization_score(measure="rougel")``, except: no rounding to 3 decimals, and not
    its quirk of returning 1.0 when every pair scores 0 (we return 0.0). F1 is symmetric, so
    each unordered pair is scored once. Fewer than two samples: 0.0.
    """
    n = len(texts)
    if n < 2:
        return 0.0
    scorer = rouge_l_scorer()
    total = math.fsum(
        scorer.score(texts[i], texts[j])["rougeL"].fmeasure
        for i in range(n)
        for j in range(i + 1, n)
    )
    return total / (n * (n - 1) / 2)
