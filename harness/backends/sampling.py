"""Per-row seeded sampling for the hf backend, at a cost independent of the vocabulary.

Every row of a decoding batch has its own ``torch.Generator`` (seeded from its request's
seed) and its own temperature, top-k, top-p, min-p and repetition penalty, so a row's
tokens depend only on its own seed and parameters, never on its batch mates.

Order of operations per row, as in transformers and vLLM: repetition penalty (CTRL,
Keskar et al. 2019) on the raw logits, temperature, then top-k, top-p (nucleus, Holtzman
et al. 2019) and min-p (Nguyen et al. 2024) filtering of the tokens sorted by probability,
then inverse-CDF sampling with one uniform draw ``u`` from the row's generator: the chosen
token is the first, in descending probability, whose cumulative kept mass exceeds
``u × (total kept mass)``. Temperature 0 means greedy (the draw is still consumed, so a
row's stream of draws does not depend on its parameters).

Sorting the whole vocabulary (49k tokens) for every row at every step costs more than
the model's forward pass on a CPU. ``sample`` therefore sorts only the 65 most likely
tokens (``torch.topk``): the filters are monotone in rank, so when the candidate just past
the last one is filtered out, the kept set lies inside the candidates; and when nothing
filters (pure temperature sampling), the draw lands inside the candidates whenever
``u × total`` is below their mass. Rows where neither holds (a flat distribution with
top-p near 1) try the 1,025 most likely, then the whole vocabulary. Either way the token
picked is exactly the one a full sort would pick.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.backends.rows import row_sums
from harness.records import SamplingParams

CANDIDATES = (64, 1024)  # candidate sets tried before the whole vocabulary


class RowSampler:
    """The sampling state of the rows of a batch: one generator and parameter set per row.

    Rows are added with ``extend`` and removed with ``keep``, in step with the batch.
    """

    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.generators: list[Any] = []
        self.temperature = torch.zeros((0, 1))
        self.top_p = torch.zeros((0, 1))
        self.top_k = torch.zeros((0, 1), dtype=torch.long)
        self.min_p = torch.zeros((0, 1))
        self.penalty = torch.zeros((0, 1))

    def extend(self, params: Sequence[SamplingParams], seeds: Sequence[int]) -> None:
        torch = self.torch
        self.generators += [torch.Generator().manual_seed(s) for s in seeds]

        def col(values: list, dtype: Any = torch.float32) -> Any:
            return torch.tensor(values, dtype=dtype).unsqueeze(1)

        self.temperature = torch.cat([self.temperature, col([p.temperature for p in params])])
        self.top_p = torch.cat([self.top_p, col([p.top_p for p in params])])
        self.top_k = torch.cat([self.top_k, col([p.top_k for p in params], torch.long)])
        self.min_p = torch.cat([self.min_p, col([p.min_p for p in params])])
        self.penalty = torch.cat([self.penalty, col([p.repetition_penalty for p in params])])

    def merge(self, other: RowSampler) -> None:
        """Append the rows of ``other`` after this sampler's rows."""
        self.generators += other.generators
        for name in ("temperature", "top_p", "top_k", "min_p", "penalty"):
            setattr(self, name, self.torch.cat([getattr(self, name), getattr(other, name)]))

    def keep(self, rows: list[int]) -> None:
        """Keep only ``rows`` (indices into the current rows), in that order."""
        self.generators = [self.generators[i] for i in rows]
        idx = self.torch.tensor(rows, dtype=self.torch.long)
        for name in ("temperature", "top_p", "top_k", "min_p", "penalty"):
            setattr(self, name, getattr(self, name)[idx])

    def sample(self, logits: Any, seen: Any = None) -> Any:
        """Return one token id per row from ``logits`` ([rows, vocab]). ``seen`` is a
        boolean [rows, vocab] mask of the tokens already in each row (prompt and output),
        needed only when a row has a repetition penalty."""
        torch = self.torch
        logits = logits.float()
        if seen is not None and bool((self.penalty != 1.0).any()):
            penalised = torch.where(logits > 0, logits / self.penalty, logits * self.penalty)
            logits = torch.where(seen, penalised, logits)
        u = torch.cat([torch.rand(1, generator=g) for g in self.generators]).unsqueeze(1)
        greedy = (self.temperature <= 0).squeeze(1)
        probs = (logits / self.temperature.clamp(min=1e-6)).softmax(dim=-1)
        chosen = probs.argmax(dim=-1)
        rows = (~greedy).nonzero().squeeze(1)
        for k in (*CANDIDATES, probs.shape[1]):  # widen the candidates until every row fits
            if not len(rows):
                break
            picked, inside = self._pick(probs[rows], u[rows], rows, k)
            chosen[rows[inside]] = picked[inside]
            rows = rows[~inside]
        return chosen

    def _pick(self, probs: Any, u: Any, rows: Any, k: int) -> tuple[Any, Any]:
        """Sample ``rows`` from their ``k`` most likely tokens; return the picks and which
        rows the candidates decide exactly (all of them when ``k`` is the vocabulary)."""
        torch = self.torch
        vocab = probs.shape[1]
        k = min(k + 1, vocab)  # one past the candidates: is it filtered out?
        cand_p, cand_idx = probs.topk(k, dim=-1)  # sorted, most likely first
        kept, drop = self._filter(cand_p, rows)
        cum = kept.cumsum(dim=-1)
        if k == vocab:
            inside = torch.ones(len(rows), dtype=torch.bool)
            total = cum[:, -1:]
        else:
            # exact when the candidate past the last is filtered out (the kept set is inside)
            # or when nothing filters and the draw falls within the candidates' mass
            inside = drop[:, -1].clone()
            unfiltered = ((self.top_k[rows].squeeze(1) <= 0) & (self.top_p[rows].squeeze(1) >= 1.0)
                          & (self.min_p[rows].squeeze(1) <= 0))
            total = torch.where(inside.unsqueeze(1), cum[:, -1:], row_sums(probs))
            inside |= unfiltered & (u.squeeze(1) * total.squeeze(1) < cum[:, -2])
        last = ((kept > 0).sum(dim=-1, keepdim=True) - 1).clamp(min=0)  # kept: a prefix
        pick = torch.minimum(torch.searchsorted(cum, u * total), last)
        return cand_idx.gather(1, pick).squeeze(1), inside

    def _filter(self, sorted_p: Any, rows: Any = None) -> tuple[Any, Any]:
        """Apply top-k, top-p and min-p to probabilities sorted in descending order;
        return the kept probabilities (dropped ones zeroed) and the drop mask."""
        torch = self.torch
        sel = (lambda t: t) if rows is None else (lambda t: t[rows])
        top_k, top_p, min_p = sel(self.top_k), sel(self.top_p), sel(self.min_p)
        ranks = torch.arange(sorted_p.shape[1]).unsqueeze(0)
        drop = (top_k > 0) & (ranks >= top_k)
        cum = sorted_p.cumsum(dim=-1)
        drop |= ((cum - sorted_p) >= top_p) & (top_p < 1.0)  # smallest prefix reaching top_p
        drop |= sorted_p < min_p * sorted_p[:, :1]
        drop[:, 0] = False  # the most likely token always survives
        return sorted_p.masked_fill(drop, 0.0), drop
