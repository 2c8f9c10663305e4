"""Perplexity of each sample under a scoring model, given the prompt it was generated from."""

from __future__ import annotations

import json
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
    description="exp(mean NLL of the sample's tokens given its prompt) under the scorer; "
                "an input pools its samples by tokens",
    source="Jelinek et al. 1977; conditional, token-weighted PPL as in Holtzman et al. 2020",
    higher_is="worse",
    needs=("scorer",),
    pool="log_weighted",
    weight="scored_tokens",
)
def perplexity(
    texts: list[str], contexts: list[SampleContext], resources: Resources
) -> list[float]:
    """Perplexity ``exp(-(1/T) sum_t log p(x_t | prompt, x_<t))`` of each text's T tokens
    (the scorer's tokens) given its chat prompt, from one batched
    ``resources.scorer.score(prompts, texts)`` call (natural-log token probabilities).
    An empty text (no tokens) gives 1.0; the mean NLL is capped at 700 to stay finite.

    The samples of one input pool token-weighted, ``exp(sum_i NLL_i / sum_i T_i)`` =
    ``exp(sum_i T_i ln ppl_i / sum_i T_i)`` with ``T_i`` from ``scored_tokens`` (Holtzman
    et al. 2020 compute perplexity over all tokens), not as the mean of per-text
    perplexities, which one short or nonsensical reply dominates.
    Raises ``MissingResourceError`` when ``resources.scorer`` is None."""
    return [perplexity_from_logprobs(lp) for lp in _logprobs(texts, contexts, resources)]


@metric(
    "scored_tokens",
    bounds=(0.0, None),
    kind=SAMPLE,
    description="tokens of the sample under the scorer's tokenizer (perplexity's weights)",
    source="-",
    higher_is=None,
    needs=("scorer",),
)
def scored_tokens(
    texts: list[str], contexts: list[SampleContext], resources: Resources
) -> list[float]:
    """``T``: the number of the scorer's tokens in each text, the weight with which a
    sample's perplexity enters its input's token-weighted perplexity. Shares the scorer
    call with ``perplexity`` within a run."""
    return [float(len(lp)) for lp in _logprobs(texts, contexts, resources)]


def _logprobs(texts: list[str], contexts: list[SampleContext], resources: Resources
              ) -> list[list[float]]:
    if resources.scorer is None:
        raise MissingResourceError(
            "metric 'perplexity' needs a scoring model: give `harness score` one with "
            "`--scorer smollm2-135m` (or another model alias or directory), name a `scorer:`"
            " in the suite, or drop 'perplexity' from the metrics"
        )
    keys = [(json.dumps(c.messages, ensure_ascii=False, sort_keys=True), t)
            for c, t in zip(contexts, texts, strict=True)]
    todo = [i for i, k in enumerate(keys) if k not in resources.logprobs]
    if todo:
        got = resources.scorer.score([contexts[i].messages for i in todo],
                                     [texts[i] for i in todo])
        if len(got) != len(todo):
            raise ArithmeticError(f"scorer returned {len(got)} results for {len(todo)} texts")
        for i, lp in zip(todo, got, strict=True):
            resources.logprobs[keys[i]] = list(lp)
    return [resources.logprobs[k] for k in keys]
