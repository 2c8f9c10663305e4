"""Distinct answers among the k samples of one prompt (NoveltyBench), with a pluggable
equivalence judge.

Zhang et al. 2025, "NoveltyBench" (arXiv:2504.05228), partition the k samples of a prompt
into functional-equivalence classes: in generation order, a sample joins the first class
whose representative (its first member) it is equivalent to, else it starts a new class.
``distinct_answers`` is the number of classes (the paper's distinct_k), ``novelty_utility``
the paper's utility_k with patience p and every sample's quality taken as 1:

    utility_k = (1 - p) / (1 - p^k) * sum_{i=1..k} p^(i-1) * [sample i starts a new class]

so k equivalent samples score (1 - p) / (1 - p^k) and k different ones 1.

The default judge (``EmbeddingEquivalence``) calls two texts equivalent when the cosine
similarity of their sentence embeddings is at least ``EQUIVALENCE_THRESHOLD``; the
threshold and its accuracy on the labelled pairs in ``tests/data/paraphrase_pairs.jsonl``
are in docs/metrics.md (``benchmarks/equivalence.py`` measures them). Any object with
``name`` and ``matrix(texts) -> bool[n, n]`` can replace it (an LLM judge, a classifier):
set ``Resources.equivalence``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from harness.metrics.registry import SET, Resources, metric

EQUIVALENCE_THRESHOLD = 0.76  # chosen on tests/data/paraphrase_pairs.jsonl (en + zh)
PATIENCE = 0.8


class EquivalenceJudge(Protocol):
    """Decides which texts say the same thing. ``name`` identifies it in score caches."""

    name: str

    def matrix(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(n, n)`` boolean array: ``[i, j]`` is True when text i and text j are
        functionally equivalent (the same answer in other words)."""
        ...


class EmbeddingEquivalence:
    """Equivalent when the embeddings' cosine similarity is at least ``threshold``; two
    texts that are equal after stripping whitespace are always equivalent."""

    def __init__(self, resources: Resources, threshold: float = EQUIVALENCE_THRESHOLD):
        self.resources = resources
        self.threshold = threshold
        self.name = f"embedding-cosine>={threshold:g}"

    def matrix(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=bool)
        emb = self.resources.embedder.encode(list(texts)).astype(np.float64)
        same = emb @ emb.T >= self.threshold
        stripped = [t.strip() for t in texts]
        same |= np.array([[a == b for b in stripped] for a in stripped])
        return same


def judge_of(resources: Resources) -> EquivalenceJudge:
    """Return the run's equivalence judge: ``resources.equivalence`` if set, else the
    embedding judge on the run's embedder."""
    judge = getattr(resources, "equivalence", None)
    return judge if judge is not None else EmbeddingEquivalence(resources)


def partition(same: np.ndarray) -> list[int]:
    """Return the class of each sample (0, 1, ... in order of first appearance) under
    NoveltyBench's sequential rule: sample i joins the first class whose representative
    ``r`` has ``same[r, i]``, else starts a new class."""
    reps: list[int] = []
    labels = []
    for i in range(same.shape[0]):
        for c, r in enumerate(reps):
            if same[r, i]:
                labels.append(c)
                break
        else:
            labels.append(len(reps))
            reps.append(i)
    return labels


def utility(labels: Sequence[int], patience: float = PATIENCE) -> float:
    """NoveltyBench's utility_k with quality 1: the patience-weighted share of samples that
    start a new class, normalised so that all-new is 1. No samples: 0.0."""
    k = len(labels)
    if k == 0:
        return 0.0
    seen: set[int] = set()
    total = 0.0
    for i, c in enumerate(labels):
        if c not in seen:
            seen.add(c)
            total += patience**i
    return float(total * (1 - patience) / (1 - patience**k))


@metric(
    "distinct_answers",
    kind=SET,
    description="number of different answers among one input's k samples (equivalence "
                "classes)",
    source="Zhang et al. 2025, NoveltyBench distinct_k, arXiv:2504.05228",
    higher_is="diverse",
    needs=("embedder", "equivalence"),
    bounds=(1.0, None),
    counts_samples=True,
)
def distinct_answers(texts: list[str], resources: Resources) -> float:
    """``distinct_k``: the number of classes of ``partition(judge.matrix(texts))``, the
    samples in generation order (NoveltyBench). Between 1 and k; no samples: 0.0. It grows
    with k: compare cells with the same number of samples per input."""
    return float(max(answer_classes(texts, resources)) + 1) if texts else 0.0


@metric(
    "novelty_utility",
    kind=SET,
    description="patience-weighted share of samples that are new answers (1 = all "
                "different)",
    source="Zhang et al. 2025, NoveltyBench utility_k (p = 0.8, quality 1), "
           "arXiv:2504.05228",
    higher_is="diverse",
    needs=("embedder", "equivalence"),
    bounds=(0.0, 1.0),
)
def novelty_utility(texts: list[str], resources: Resources) -> float:
    """``utility_k = (1 - p)/(1 - p^k) * sum_i p^(i-1) [sample i starts a new class]`` with
    p = 0.8 and every sample's quality 1 (the paper weights by a reward model's score;
    the harness has none by default). k equivalent samples: (1 - p)/(1 - p^k); all
    different: 1; no samples: 0.0."""
    return utility(answer_classes(texts, resources)) if texts else 0.0


def answer_classes(texts: Sequence[str], resources: Resources) -> list[int]:
    """Return the answer class of each text, in order (what ``distinct_answers`` counts
    and the report's sample browser groups by)."""
    return partition(judge_of(resources).matrix(list(texts))) if texts else []
