from __future__ import annotations

import pytest
import sacrebleu
from rouge_score import rouge_scorer

from harness.metrics import Resources, SampleContext, score_samples

HYPS = [
    "The cat sat on the mat.",
    "A dog barked loudly at the mailman this morning.",
    "猫坐在垫子上。",
    "",
    "No reference for this one.",
]
REFS = [
    "The cat is sitting on the mat.",
    "This morning the dog barked at the mailman.",
    "猫坐在垫子上面。",
    "Something.",
    None,
]


def contexts():
    return [SampleContext(messages=[], prompt_text="", reference=r) for r in REFS]


def score(name):
    return score_samples([name], HYPS, contexts(), Resources())[name]


def test_bleu_matches_sacrebleu_with_zh_for_chinese():
    got = score("bleu")
    assert got[0] == pytest.approx(sacrebleu.sentence_bleu(HYPS[0], [REFS[0]]).score, abs=1e-9)
    assert got[1] == pytest.approx(sacrebleu.sentence_bleu(HYPS[1], [REFS[1]]).score, abs=1e-9)
    zh = sacrebleu.sentence_bleu(HYPS[2], [REFS[2]], tokenize="zh").score
    assert got[2] == pytest.approx(zh, abs=1e-9)
    assert zh > 50  # character-tokenized: most of the sentence matches
    assert got[3] == 0.0 and got[4] == 0.0


def test_chrf_matches_sacrebleu():
    got = score("chrf")
    for i in range(4):
        assert got[i] == pytest.approx(sacrebleu.sentence_chrf(HYPS[i], [REFS[i]]).score, abs=1e-9)
    assert got[4] == 0.0


def test_rouge_l_matches_rouge_score():
    got = score("rouge_l")
    default = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    for i in (0, 1):  # plain ASCII: harness tokens == rouge-score's default tokens
        assert got[i] == pytest.approx(
            default.score(REFS[i], HYPS[i])["rougeL"].fmeasure, abs=1e-12
        )

    class Whitespace:
        def tokenize(self, text):
            return text.split()

    spaced = rouge_scorer.RougeScorer(["rougeL"], tokenizer=Whitespace())
    zh = spaced.score(" ".join("猫坐在垫子上面"), " ".join("猫坐在垫子上"))["rougeL"].fmeasure
    assert got[2] == pytest.approx(zh, abs=1e-12)
    assert got[2] == pytest.approx(2 * 6 / (6 + 7))
    assert got[3] == 0.0 and got[4] == 0.0
