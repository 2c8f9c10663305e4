from __future__ import annotations

import json
import random
import time

import numpy as np
import pytest

from harness.metrics import Resources, SampleContext, score_samples, verbatim_overlaps
from harness.metrics.overlap import SourceIndex, _lcp_array, _prefix_doubling, suffix_array
from harness.metrics.tokenize import tokenize

from .corpora import synthetic


def brute_match_lengths(tokens, docs):
    """ms[i] by brute force over every document position."""
    out = []
    for i in range(len(tokens)):
        best = 0
        for d in docs:
            for s in range(len(d)):
                k = 0
                while i + k < len(tokens) and s + k < len(d) and tokens[i + k] == d[s + k]:
                    k += 1
                best = max(best, k)
        out.append(best)
    return out


def test_suffix_array_matches_sorted_suffixes():
    rng = np.random.default_rng(0)
    for n, alphabet in [(1, 1), (2, 1), (50, 2), (300, 5), (200, 50)]:
        ids = rng.integers(0, alphabet, n)
        expected = sorted(range(n), key=lambda i: ids[i:].tolist())
        assert suffix_array(ids).tolist() == expected


def test_match_lengths_match_brute_force():
    docs = synthetic(20, 30, seed=5, vocab=40)
    index = SourceIndex(docs)
    doc_tokens = [tokenize(d) for d in docs]
    for text in synthetic(15, 30, seed=6, vocab=40) + [docs[3][10:200], "", "zzz unseen w1"]:
        t = tokenize(text)
        assert index.match_lengths(t) == brute_match_lengths(t, doc_tokens)


def test_lcp_array_matches_naive_common_prefixes():
    rng = np.random.default_rng(1)
    for n, alphabet in [(0, 1), (1, 1), (2, 1), (40, 1), (300, 2), (300, 4), (200, 50)]:
        ids = rng.integers(0, alphabet, n)
        levels = []
        sa = _prefix_doubling(ids, levels).tolist()
        assert sa == suffix_array(ids).tolist()

        def common(p, q, ids=ids, n=n):
            k = 0
            while p + k < n and q + k < n and ids[p + k] == ids[q + k]:
                k += 1
            return k

        naive = [-1] + [common(sa[r - 1], sa[r]) for r in range(1, n)] + [-1] if n else [-1]
        assert _lcp_array(np.asarray(sa, np.int64), levels).tolist() == naive


def test_match_lengths_match_brute_force_on_random_token_sequences():
    """Small alphabets, so matches are long and suffix-array intervals deep; duplicated
    documents, empty documents, samples longer than the corpus, empty samples, runs of one
    token, unknown tokens, and copies of whole documents."""
    rng = random.Random(3)
    for trial in range(250):
        alphabet = rng.randint(1, 4)

        def words(k, alphabet=alphabet):
            return [f"t{rng.randrange(alphabet)}" for _ in range(k)]

        docs = [words(rng.choice([0, 1, 3, rng.randint(0, 40)])) for _ in range(rng.randint(0, 4))]
        if docs and trial % 3 == 0:
            docs.append(list(docs[0]))  # a duplicated document: long common prefixes
        index = SourceIndex([" ".join(d) for d in docs])
        corpus_size = sum(map(len, docs))
        samples = [
            [],
            words(1),
            words(rng.randint(corpus_size, 2 * corpus_size + 5)),  # longer than the corpus
            ["t0"] * rng.randint(1, 60),  # one repeated token
            words(30) + ["unseen"] + words(30),  # a token no source has
        ]
        if docs:
            copy = docs[rng.randrange(len(docs))]
            samples.append(words(5) + copy + copy + words(5))  # whole documents, twice
        for sample in samples:
            assert index.match_lengths(sample) == brute_match_lengths(sample, docs), (
                docs,
                sample,
            )


def test_long_samples_score_exactly(tmp_path):
    """Samples of 100k-400k tokens (up to 1.5 MB of text) whose match lengths are known by
    construction. The old per-position search copied the rest of the sample at every
    position (O(T^2)); these finish in about a second (see benchmarks/overlap.py)."""
    rng = random.Random(5)
    # 1. whole corpus documents copied many times (the sample is longer than the corpus),
    # each followed by a token in no source, so a copy at offset j matches len(doc) - j
    docs = synthetic(300, 200, seed=11, vocab=500)
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": d}) + "\n" for d in docs), encoding="utf-8")
    resources = Resources(source_paths=[corpus])
    parts, expected, ranges, offset = [], [], [], 0
    while len(expected) < 400_000:
        doc = docs[rng.randrange(len(docs))]
        n = len(tokenize(doc))
        parts += [doc, f"fresh{len(parts)}"]
        expected += [*range(n, 0, -1), 0]
        if n >= 8:
            ranges.append((offset, offset + len(doc)))
        offset += len(doc) + len(parts[-1]) + 2
    text = " ".join(parts)
    assert len(text) > 1_500_000
    ctx = SampleContext(messages=[], prompt_text="", examples=[])
    got = score_samples(["max_verbatim_span", "ngram_containment_8"], [text], [ctx], resources)
    assert resources.match_cache[(text, "")] == expected
    assert got["max_verbatim_span"] == [float(max(expected))]
    grams = len(expected) - 7
    assert got["ngram_containment_8"] == [sum(m >= 8 for m in expected[:grams]) / grams]
    assert verbatim_overlaps(text, ctx, resources) == ranges

    # 2. one long span copied from a corpus of a duplicated 3-token-alphabet document:
    # every suffix of the sample matches to its end, through deep suffix-array intervals
    doc = [f"t{rng.randrange(3)}" for _ in range(120_000)]
    index = SourceIndex([" ".join(doc)] * 2)
    sample = doc[10_000:110_000]
    assert index.match_lengths(sample) == list(range(len(sample), 0, -1))

    # 3. a run of one token, longer than the run in the source
    index = SourceIndex(["a " * 1000])
    assert index.match_lengths(["a"] * 100_000) == [min(1000, 100_000 - i) for i in range(100_000)]


def test_matches_never_cross_document_boundaries():
    index = SourceIndex(["a b c", "d e f"])
    assert index.match_lengths(tokenize("b c d e")) == [2, 1, 2, 1]


def test_overlap_metrics_against_examples_prompt_and_corpus(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        json.dumps({"text": "It was the best of times, it was the worst of times."})
        + "\n"
        + json.dumps({"text": "Call me Ishmael."})
        + "\n"
    )
    plain = tmp_path / "plain.txt"
    plain.write_text("Some years ago, never mind how long precisely.", encoding="utf-8")
    resources = Resources(source_paths=[corpus, plain])
    ctx = SampleContext(
        messages=[],
        prompt_text="Write a story about a whale named Moby.",
        examples=["The sea was angry that day, my friends."],
    )
    texts = [
        "IT WAS THE BEST OF TIMES, it was the worst of times!",  # 12 tokens from corpus
        "The sea was angry that day and the whale slept.",  # 6 from the example
        "Write a story about a whale named Moby. Ok.",  # 8 from the prompt
        "Some years ago never mind",  # 5 from the plain file
        "Completely fresh words here.",
        "",
    ]
    got = score_samples(["max_verbatim_span", "ngram_containment_8"], texts, [ctx] * 6, resources)
    assert got["max_verbatim_span"] == [12.0, 6.0, 8.0, 5.0, 0.0, 0.0]
    # 12 tokens -> 5 eight-grams, all found; 10 tokens, no 8-gram found; 9 tokens: 1 of 2 found
    assert got["ngram_containment_8"] == [1.0, 0.0, 0.5, 0.0, 0.0, 0.0]
    text = "Well: it was the best of times, it was the worst of times. The end."
    ((start, end),) = verbatim_overlaps(text, ctx, resources)
    assert text[start:end] == "it was the best of times, it was the worst of times"


def test_no_sources_still_uses_prompt_and_examples():
    ctx = SampleContext(messages=[], prompt_text="alpha beta gamma", examples=[])
    got = score_samples(["max_verbatim_span"], ["say alpha beta now"], [ctx], Resources())
    assert got["max_verbatim_span"] == [2.0]


def test_ten_megabyte_corpus_indexes_and_searches_in_seconds():
    docs = synthetic(3700, 600, seed=9, vocab=20000)  # ~ 10 MB of text
    assert sum(map(len, docs)) > 10_000_000
    start = time.perf_counter()
    index = SourceIndex(docs)
    built = time.perf_counter() - start
    queries = [tokenize(d)[100:160] for d in docs[:50]] + [tokenize(q) for q in synthetic(50, 60)]
    start = time.perf_counter()
    results = [index.match_lengths(q) for q in queries]
    searched = time.perf_counter() - start
    assert all(r[0] == 60 for r in results[:50])
    # about 5 s and 0.1 s on an idle 2-core machine; generous bounds for a busy CI runner
    assert built < 60 and searched < 15, (built, searched)


def test_bad_jsonl_source_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n\n{"body": "no text field"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.jsonl:3: expected a JSON object"):
        Resources(source_paths=[bad]).sources  # noqa: B018
    assert Resources().sources is None
