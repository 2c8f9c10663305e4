"""Perplexity of each sample under a scoring model, given the prompt it was generated from."""

from __future__ import annotations

import math
from collections.abc import Sequence

from harness.metrics.registry import SAMPLE, MissingResourceError, Resources, SampleContext, metric

_MAX_NLL = 700.0  # exp(700) ~ 1e304: keeps the value finite for -inf log-probabilities


def perplexity_from_logprobs(logprobs: Sequence[float]) -> float:
    """``exp(-mean(logprobs))``, the mean negative log-likelihood capped at 700 so the value
    stays finite; 1.0 for no tokens."""
    if len(logprobs) == 0:
        return 1.0
    nll = -math.fsum(logprobs) / len(logprobs)
    if math.isnan(nll):
        nll = _MAX_NLL
    return math.exp(min(nll, _MAX_NLL))


@metric(
    "perplexity",
    bounds=(1.0, None),
    kind=SAMPLE,
    description="exp(mean NLL of the sample's tokens given its prompt) under the scorer",
    source="Jelinek et al. 1977; conditional PPL as in Holtzman et al. 2020",
    higher_is="worse",
    needs=("scorer",),
)
def perplexity(
    texts: list[str], contexts: list[SampleContext], resources: Resources
) -> list[float]:
    """Perplexity ``exp(-(1/T) sum_t log p(x_t | prompt, x_<t))`` of each text's T tokens
    (the scorer's tokens) given its chat prompt, from one batched
    ``resources.scorer.score(prompts, texts)`` call (natural-log token probabilities).
    An empty text (no tokens) gives 1.0; the mean NLL is capped at 700 to stay finite.
    Raises ``MissingResourceError`` when ``resources.scorer`` is None."""
    if resources.scorer is None:
        raise MissingResourceError(
            "metric 'perplexity' needs a scoring model (resources.scorer is None); "
            "run with a backend that can score, or drop 'perplexity' from the metrics"
        )
    if not texts:
        return []
    logprobs = resources.scorer.score([c.messages for c in contexts], texts)
    if len(logprobs) != len(texts):
        raise ArithmeticError(f"scorer returned {len(logprobs)} results for {len(texts)} texts")
    return [perplexity_from_logprobs(lp) for lp in logprobs]
