from __future__ import annotations

import gzip
import math

import numpy as np
import pytest

from harness.metrics import Resources, score_samples, score_set
from harness.metrics.diversity import (
    distinct_n,
    repeating_loop,
    rouge_l_scorer,
    self_bleu_scores,
    zipf_fit,
)
from harness.metrics.registry import SampleContext
from harness.metrics.tokenize import tokenize

from . import reference_impls as ref
from .corpora import CHINESE, EDGE, ENGLISH, IDENTICAL, MIXED, REPETITIVE, synthetic

CORPORA = {
    "english": ENGLISH,
    "chinese": CHINESE,
    "repetitive": REPETITIVE,
    "identical": IDENTICAL,
    "edge": EDGE,
    "mixed": MIXED,
}


def toks(texts):
    return [tokenize(t) for t in texts]


def ctxs(n):
    return [SampleContext(messages=[], prompt_text="") for _ in range(n)]


# ----------------------------------------------------------------- Self-BLEU vs NLTK loop


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_self_bleu_matches_nltk_loop(name):
    tl = toks(CORPORA[name])
    ours = self_bleu_scores(tl)
    theirs = ref.texygen_self_bleu_scores(tl)
    assert ours == pytest.approx(theirs, abs=1e-12)
    mean = score_set(["self_bleu"], CORPORA[name])["self_bleu"]
    assert mean == pytest.approx(sum(theirs) / len(theirs), abs=1e-12)


def test_self_bleu_matches_nltk_loop_on_synthetic_set():
    tl = toks(synthetic(120, 20, seed=3, vocab=300))
    assert self_bleu_scores(tl) == pytest.approx(ref.texygen_self_bleu_scores(tl), abs=1e-12)


def test_self_bleu_brevity_penalty_tie_takes_shorter_reference():
    # hypothesis of 5 tokens, others of 4 and 6: NLTK picks 4 (tie -> shorter) -> no penalty;
    # picking 6 would give exp(1 - 6/5).
    tl = [["a", "b", "c", "d", "e"], ["a", "b", "c", "d"], ["a", "b", "c", "d", "e", "f"]]
    assert self_bleu_scores(tl) == pytest.approx(ref.texygen_self_bleu_scores(tl), abs=1e-12)
    assert self_bleu_scores(tl)[0] == pytest.approx(1.0)


def test_self_bleu_defined_values():
    assert score_set(["self_bleu"], IDENTICAL)["self_bleu"] == pytest.approx(1.0)
    assert score_set(["self_bleu"], ["only one sample here"])["self_bleu"] == 0.0
    assert score_set(["self_bleu"], [])["self_bleu"] == 0.0
    assert score_set(["self_bleu"], ["", ""])["self_bleu"] == 0.0
    assert score_set(["self_bleu"], ["alpha beta", "gamma delta"])["self_bleu"] == 0.0


# ----------------------------------------------------------------- distinct-n


def test_distinct_n_worked_example():
    # "a b a b" + "a c": unigrams a,b,a,b,a,c -> 3 unique / 6; bigrams ab,ba,ab,ac -> 3/4
    texts = ["a b a b", "a c"]
    got = score_set(["distinct_1", "distinct_2", "distinct_3"], texts)
    assert got == {"distinct_1": 0.5, "distinct_2": 0.75, "distinct_3": 1.0}


@pytest.mark.parametrize("name", sorted(CORPORA))
@pytest.mark.parametrize("n", [1, 2, 3])
def test_distinct_n_matches_counting(name, n):
    grams = [g for t in toks(CORPORA[name]) for g in zip(*(t[i:] for i in range(n)), strict=False)]
    expected = len(set(grams)) / len(grams) if grams else 0.0
    assert score_set([f"distinct_{n}"], CORPORA[name])[f"distinct_{n}"] == expected


def test_distinct_n_does_not_cross_samples_and_edges():
    assert distinct_n([["a"], ["b"]], 2) == 0.0  # no bigram inside any sample
    assert score_set(["distinct_1"], [])["distinct_1"] == 0.0
    got = score_samples(
        ["distinct_1_sample", "distinct_2_sample"], ["a a b", "", "x"], ctxs(3), Resources()
    )
    assert got["distinct_1_sample"] == [2 / 3, 0.0, 1.0]
    assert got["distinct_2_sample"] == [1.0, 0.0, 0.0]


def test_chinese_is_not_one_giant_word():
    # per-character tokens: 12 characters, 花 and 了 twice -> 10 unique
    assert score_set(["distinct_1"], CHINESE[:1])["distinct_1"] == pytest.approx(10 / 12)
    assert score_set(["distinct_1"], [CHINESE[0], CHINESE[2]])["distinct_1"] < 1.0


# ----------------------------------------------------------------- compression ratio


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_compression_ratio_matches_diversity_package(name):
    texts = CORPORA[name]
    assert score_set(["compression_ratio"], texts)["compression_ratio"] == (
        ref.diversity_compression_ratio(texts)
    )


def test_compression_ratio_is_double_gzip_like_the_package():
    texts = synthetic(50, 40, seed=1)
    raw = " ".join(texts).encode()
    single = round(len(raw) / len(gzip.compress(raw)), 3)
    ours = score_set(["compression_ratio"], texts)["compression_ratio"]
    assert ours == ref.diversity_compression_ratio(texts)
    assert ours < single  # the quirk is kept on purpose
    assert score_set(["compression_ratio"], [])["compression_ratio"] == 0.0
    rep = score_set(["compression_ratio"], ["same words again"] * 50)["compression_ratio"]
    assert rep > 3 * ours


# ----------------------------------------------------------------- Zipf


def test_zipf_hand_computed_fit():
    # counts 4, 2, 1 at ranks 1, 2, 3: x = log r, y = log f; slope by hand
    texts = ["a a a a b b c"]
    x = [0.0, math.log(2), math.log(3)]
    y = [math.log(4), math.log(2), 0.0]
    mx, my = sum(x) / 3, sum(y) / 3
    slope = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / sum(
        (a - mx) ** 2 for a in x
    )
    got = score_set(["zipf_coefficient"], texts)["zipf_coefficient"]
    assert got == pytest.approx(-slope, abs=1e-12)
    # a perfect 1/r law: 12, 6, 4, 3 -> coefficient exactly 1
    perfect = ["a " * 12 + "b " * 6 + "c " * 4 + "d " * 3]
    assert score_set(["zipf_coefficient"], perfect)["zipf_coefficient"] == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["english", "chinese", "repetitive", "mixed"])
def test_zipf_matches_holtzman_linregress(name):
    pytest.importorskip("scipy")
    tl = toks(CORPORA[name])
    assert zipf_fit(tl) == pytest.approx(ref.holtzman_zipf(tl), abs=1e-9)


def test_zipf_defined_for_degenerate_sets():
    assert score_set(["zipf_coefficient"], [])["zipf_coefficient"] == 0.0
    assert score_set(["zipf_coefficient"], ["same same same"])["zipf_coefficient"] == 0.0


# ----------------------------------------------------------------- repetition


LOOPS = [
    "I like it. I like it. I like it.",  # 3-token phrase x3 -> loop
    "the the the the the",  # 1-token x5: not a loop (needs >50)
    " ".join(["no"] * 51),  # 1-token x51 -> loop
    "go home go home",  # 2-token x2: not a loop
    "one two three one two three four",  # loop broken at the end
    "",
    "a b c d a b c d a b c d",
]


def test_repeating_loop_matches_holtzman():
    for text in LOOPS[:-2] + LOOPS[-1:] + REPETITIVE + ENGLISH:
        t = tokenize(text)
        assert (repeating_loop(t) is not None) == ref.holtzman_is_repeating(t), text
    assert [repeating_loop(tokenize(t)) is not None for t in LOOPS] == [
        True,
        False,
        True,
        False,
        False,
        False,
        True,
    ]
    assert repeating_loop(tokenize("I like it. I like it. I like it.")) == (3, 3)


def test_repetition_share():
    assert score_set(["repetition"], LOOPS)["repetition"] == pytest.approx(3 / 7)
    assert score_set(["repetition"], [])["repetition"] == 0.0


def test_ngram_repetition_per_sample():
    texts = ["a b c d a b c d", "a b c", "", "a b c d e"]
    got = score_samples(["ngram_repetition"], texts, ctxs(4), Resources())["ngram_repetition"]
    # first: 4-grams abcd,bcda,cdab,dabc,abcd -> 4 unique / 5 -> 0.2 repeated
    assert got == [pytest.approx(0.2), 0.0, 0.0, 0.0]


# ----------------------------------------------------------------- homogenization


@pytest.mark.parametrize("name", ["english", "repetitive", "identical"])
def test_homogenization_matches_diversity_package(name):
    from rouge_score import rouge_scorer

    texts = CORPORA[name]  # ASCII text without contractions: harness tokens == rouge tokens
    texts = [t.replace("didn't", "did not") for t in texts]
    default = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    expected = ref.diversity_homogenization_rougel(texts, default)
    ours = score_set(["homogenization_rougel"], texts)["homogenization_rougel"]
    assert round(ours, 3) == expected
    # and exactly the unrounded mean over pairs with our tokenizer
    scorer = rouge_l_scorer()
    pairs = [
        scorer.score(a, b)["rougeL"].fmeasure
        for i, a in enumerate(texts)
        for j, b in enumerate(texts)
        if i != j
    ]
    assert ours == pytest.approx(float(np.mean(pairs)), abs=1e-12)


def test_homogenization_edges_and_chinese():
    assert score_set(["homogenization_rougel"], ["one"])["homogenization_rougel"] == 0.0
    # the package's quirk would give 1.0 for completely different texts; we give 0.0
    assert score_set(["homogenization_rougel"], ["a b", "c d"])["homogenization_rougel"] == 0.0
    zh = score_set(["homogenization_rougel"], [CHINESE[0], CHINESE[2]])["homogenization_rougel"]
    # LCS 春天来了 = 4 characters of 12 and 11 -> F = 2 * 4 / (12 + 11)
    assert zh == pytest.approx(8 / 23)
