"""RowSampler against an independent per-row reference (numpy, full sort), no model."""

from __future__ import annotations

import numpy as np
import pytest

from harness.backends.sampling import CANDIDATES, RowSampler
from harness.records import SamplingParams


def reference(logits: np.ndarray, p: SamplingParams, u: float, seen: set[int]) -> int:
    """The textbook pipeline on one row: penalty, temperature, softmax, sort the whole
    vocabulary, top-k / top-p / min-p, inverse CDF at ``u`` over the kept mass."""
    x = logits.astype(np.float64).copy()
    if p.repetition_penalty != 1.0:
        for t in seen:
            x[t] = x[t] / p.repetition_penalty if x[t] > 0 else x[t] * p.repetition_penalty
    if p.temperature <= 0:
        return int(np.argmax(x))
    x = x / p.temperature
    probs = np.exp(x - x.max())
    probs /= probs.sum()
    order = np.argsort(-probs, kind="stable")
    sp = probs[order]
    keep = np.ones(len(sp), dtype=bool)
    if p.top_k > 0:
        keep[p.top_k:] = False
    if p.top_p < 1.0:
        before = np.cumsum(sp) - sp
        keep &= before < p.top_p
    keep &= sp >= p.min_p * sp[0]
    keep[0] = True
    kept = np.where(keep, sp, 0.0)
    cum = np.cumsum(kept)
    pick = int(np.searchsorted(cum, u * cum[-1], side="left"))
    return int(order[min(pick, int(keep.sum()) - 1)])


PARAMS = [
    SamplingParams(temperature=0.8, top_p=0.95),
    SamplingParams(temperature=1.0),  # nothing filters: candidates or the full sort
    SamplingParams(temperature=1.5, top_p=0.999),  # flat: the nucleus leaves the candidates
    SamplingParams(temperature=0.7, top_k=40),
    SamplingParams(temperature=0.7, top_k=500),  # top-k larger than the first candidates
    SamplingParams(temperature=0.7, top_k=2000),  # and than the second
    SamplingParams(temperature=1.2, min_p=0.05),
    SamplingParams(temperature=1.3, min_p=0.0001),  # min-p keeps more than the candidates
    SamplingParams(temperature=0.9, top_p=0.9, repetition_penalty=1.3),
    SamplingParams(temperature=0.0),
]


@pytest.mark.parametrize("peaked", [0.5, 3.0, 8.0])
def test_sampler_picks_exactly_what_a_full_sort_picks(peaked):
    import torch

    vocab, rows = 3000, len(PARAMS) * 6
    rng = np.random.default_rng(int(peaked * 10))
    logits = rng.standard_normal((rows, vocab)).astype(np.float32) * peaked
    params = [PARAMS[i % len(PARAMS)] for i in range(rows)]
    seeds = [int(s) for s in rng.integers(0, 2**31, rows)]
    seen_ids = [set(rng.integers(0, vocab, 50).tolist()) for _ in range(rows)]
    seen = torch.zeros((rows, vocab), dtype=torch.bool)
    for r, ids in enumerate(seen_ids):
        seen[r, list(ids)] = True
    sampler = RowSampler()
    sampler.extend(params, seeds)
    fallbacks = 0
    for _step in range(5):
        # the draws the sampler will consume, reproduced from copies of its generators
        us = [float(torch.rand(1, generator=torch.Generator().set_state(g.get_state())))
              for g in sampler.generators]
        got = sampler.sample(torch.from_numpy(logits), seen).tolist()
        want = [reference(logits[r], params[r], us[r], seen_ids[r]) for r in range(rows)]
        assert got == want
        fallbacks += sum(1 for r in range(rows) if params[r].top_p == 0.999)
        logits = np.roll(logits, 7, axis=1)
    assert fallbacks  # the flat rows exercised the full-sort path


def test_sampler_frequencies_follow_the_filtered_distribution():
    """10,000 draws on one row: each token's frequency matches the top-p-renormalised
    probability (chi-square), and no token outside the nucleus is ever drawn."""
    import torch
    from scipy.stats import chisquare

    logits = torch.tensor([[3.0, 2.5, 2.0, 1.0, 0.0, -1.0] + [-4.0] * 200])
    p = SamplingParams(temperature=1.0, top_p=0.9)
    sampler = RowSampler()
    sampler.extend([p] * 10_000, range(10_000))
    picks = sampler.sample(logits.expand(10_000, -1)).numpy()
    probs = torch.softmax(logits[0].double(), 0).numpy()
    nucleus = int(np.searchsorted(np.cumsum(probs), 0.9)) + 1
    assert picks.max() < nucleus
    counts = np.bincount(picks, minlength=nucleus)
    expected = probs[:nucleus] / probs[:nucleus].sum() * 10_000
    assert chisquare(counts, expected).pvalue > 0.001


def test_rows_keep_their_generators_through_keep_and_merge():
    """A row's draws depend only on its own seed: dropping and merging rows leaves the
    remaining rows' choices unchanged."""
    import torch

    logits = torch.randn(1, 500, generator=torch.Generator().manual_seed(1)) * 0.5
    p = SamplingParams(temperature=1.0)

    def run_alone(seed: int) -> list[int]:
        s = RowSampler()
        s.extend([p], [seed])
        return [int(s.sample(logits)[0]) for _ in range(6)]

    a, b = RowSampler(), RowSampler()
    a.extend([p, p, p], [11, 12, 13])
    b.extend([p], [14])
    got: dict[int, list[int]] = {11: [], 12: [], 13: [], 14: []}
    rows = [11, 12, 13]
    for step in range(6):
        if step == 2:
            a.keep([0, 2])
            rows = [11, 13]
        if step == 3:
            a.merge(b)
            rows = [11, 13, 14]
        for seed, tok in zip(rows, a.sample(logits.expand(len(rows), -1)).tolist(),
                             strict=True):
            got[seed].append(tok)
    assert got[11] == run_alone(11)
    assert got[13] == run_alone(13)
    assert got[14] == run_alone(14)[:3]
    assert CANDIDATES[0] < 500
