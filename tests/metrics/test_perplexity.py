from __future__ import annotations

import math

import pytest

from harness.metrics import MissingResourceError, Resources, SampleContext, score_samples


class FakeScorer:
    """Returns fixed log-probabilities and records how it was called."""

    def __init__(self, logprobs):
        self.logprobs = logprobs
        self.calls = []

    def score(self, prompts, texts):
        self.calls.append((list(prompts), list(texts)))
        return [self.logprobs[t] for t in texts]


def ctx(prompt):
    return SampleContext(messages=[{"role": "user", "content": prompt}], prompt_text=prompt)


def test_perplexity_from_known_logprobs_in_one_batch():
    scorer = FakeScorer(
        {
            "a": [math.log(0.5), math.log(0.25)],  # mean NLL = 1.5 log 2 -> ppl 2**1.5
            "b": [math.log(0.1)],  # ppl 10
            "": [],  # no tokens -> 1.0
            "c": [-math.inf, 0.0],  # capped, finite
        }
    )
    texts = ["a", "b", "", "c"]
    got = score_samples(
        ["perplexity"], texts, [ctx(f"p{i}") for i in range(4)], Resources(scorer=scorer)
    )["perplexity"]
    assert got[0] == pytest.approx(2**1.5)
    assert got[1] == pytest.approx(10.0)
    assert got[2] == 1.0
    assert math.isfinite(got[3]) and got[3] > 1e100
    assert len(scorer.calls) == 1
    prompts, called_texts = scorer.calls[0]
    assert called_texts == texts
    assert prompts[1] == [{"role": "user", "content": "p1"}]


def test_perplexity_without_scorer_is_a_clear_error():
    with pytest.raises(MissingResourceError, match="needs a scoring model"):
        score_samples(["perplexity"], ["x"], [ctx("p")], Resources())
