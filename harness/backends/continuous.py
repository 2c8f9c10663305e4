"""Continuous batching over a transformers causal LM: the hf backend's decoding loop.

Requests wait in a queue sorted by prompt length. Up to ``max_rows`` of them decode
together, one forward pass per step over every active row, with a KV cache
(``DynamicCache``). A row leaves the batch the step it ends (end-of-sequence token or its
own ``max_tokens``), and its cache rows are dropped; when half the slots are free, the
next waiting requests (of similar prompt length, since the queue is sorted) are prefilled
as one batch and merged into the running one, their caches left-padded to a common
length. Columns that no remaining row uses are trimmed from the left. So no slot waits
for the longest row of its batch, and every step runs as many rows as memory allows.

Each distinct prompt of a prefilled group is run once and its cache copied to the rows of
its samples (as ``num_return_sequences`` does), so n samples of one prompt pay for one
prefill.

A row's tokens depend only on its own seed and parameters: each row samples with its own
generator (``RowSampler``), attends only to its own tokens (the attention mask), has its
own positions (counted from its first real token), and its matrix products run on whole
16-row blocks (``harness.backends.rows``, set up by the hf backend), so no CPU's kernel
for a short product changes its arithmetic when few rows are active. Its batch mates still
set the left padding of its cache, but attention over a float32 model's cache runs in
float64 (``harness.backends.attention``), whose rounding the padding cannot reach through
to float32 (docs/performance.md, "float32 results and the CPU").
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.backends.sampling import RowSampler
from harness.records import SamplingParams


@dataclass
class Job:
    """One sequence to generate: prompt token ids, parameters, seed, and its index."""

    index: int
    prompt: list[int]
    params: SamplingParams
    seed: int


@dataclass
class Done:
    """A finished job: its index, the new token ids (end-of-sequence excluded), whether it
    stopped at its token limit, and the seconds from its prefill to its end."""

    index: int
    tokens: list[int]
    length_limited: bool
    seconds: float


@dataclass
class _Batch:
    """The active rows: their tokens and mask (the cache's columns plus the token sampled
    last, not yet in the cache), the cache, the sampler and per-row bookkeeping."""

    ids: Any
    mask: Any
    cache: Any
    sampler: RowSampler
    jobs: list[Job] = field(default_factory=list)
    out: list[list[int]] = field(default_factory=list)
    started: list[float] = field(default_factory=list)


def decode(model: Any, jobs: Sequence[Job], *, eos_id: int, pad_id: int, max_rows: int,
           device: str = "cpu") -> Iterator[Done]:
    """Generate every job with continuous batching; yield each as soon as it ends."""
    import torch

    # by length, and identical prompts (the samples of one prompt) next to each other
    waiting = deque(sorted(jobs, key=lambda j: (len(j.prompt), j.prompt)))
    batch: _Batch | None = None
    with torch.inference_mode():
        while waiting or batch is not None:
            if waiting and (batch is None or len(batch.jobs) <= max_rows // 2):
                running = 0 if batch is None else len(batch.jobs)
                group = [waiting.popleft() for _ in range(min(max_rows - running, len(waiting)))]
                new = _prefill(model, group, pad_id, device)
                batch = new if batch is None else _merge(batch, new)
            else:
                assert batch is not None
                running = 0
                _step(model, batch, device)
            batch = yield from _finish(batch, eos_id, first_new=running)


def _prefill(model: Any, group: list[Job], pad_id: int, device: str) -> _Batch:
    """Run the distinct prompts of ``group`` (left-padded) through the model once each,
    copy each one's cache to the rows of its samples, and sample each row's first token.
    Returns the group as a batch of its own."""
    ids, mask, cache, logits = prefill_prompts(model, [j.prompt for j in group], pad_id,
                                               device)
    sampler = RowSampler()
    sampler.extend([j.params for j in group], [j.seed for j in group])
    batch = _Batch(ids=ids, mask=mask, cache=cache, sampler=sampler, jobs=list(group),
                   out=[[] for _ in group], started=[time.perf_counter()] * len(group))
    _append(batch, sampler.sample(logits.cpu(), _seen(batch, logits.shape[1])))
    return batch


def prefill_prompts(model: Any, prompts: Sequence[Sequence[int]], pad_id: int, device: str
                    ) -> tuple[Any, Any, Any, Any]:
    """Run each distinct prompt once (left-padded to a common width) and give every
    prompt of ``prompts`` its rows: token ids and mask [len(prompts), width], the KV cache
    (a ``DynamicCache`` with a row per prompt, copies where prompts repeat) and the
    logits at the last prompt position [len(prompts), vocab]."""
    import torch

    from harness.backends.attention import new_cache

    distinct: dict[tuple[int, ...], int] = {}
    for p in prompts:
        distinct.setdefault(tuple(p), len(distinct))
    width = max(len(p) for p in distinct)
    ids = torch.full((len(distinct), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(distinct), width), dtype=torch.long)
    for row, prompt in enumerate(distinct):
        ids[row, width - len(prompt):] = torch.tensor(prompt)
        mask[row, width - len(prompt):] = 1
    cache = new_cache(device)  # on a CPU, float64 keys and values for a float32 model
    logits = model(input_ids=ids.to(device), attention_mask=mask.to(device),
                   position_ids=(mask.cumsum(1) - 1).clamp(min=0).to(device),
                   past_key_values=cache, use_cache=True, logits_to_keep=1).logits[:, -1]
    rows = torch.tensor([distinct[tuple(p)] for p in prompts], dtype=torch.long)
    if len(distinct) < len(prompts):  # several samples of one prompt: copy its cache rows
        cache.batch_select_indices(rows.to(device))
        logits = logits[rows.to(device)]
    return ids[rows], mask[rows], cache, logits


def _step(model: Any, batch: _Batch, device: str) -> None:
    """One decoding step: feed every row's last sampled token, sample the next."""
    logits = model(input_ids=batch.ids[:, -1:].to(device),
                   attention_mask=batch.mask.to(device),
                   position_ids=(batch.mask.sum(1, keepdim=True) - 1).to(device),
                   past_key_values=batch.cache, use_cache=True, logits_to_keep=1).logits[:, -1]
    _append(batch, batch.sampler.sample(logits.cpu(), _seen(batch, logits.shape[1])))


def _seen(batch: _Batch, vocab: int) -> Any:
    """The tokens already in each row (prompt and output), for repetition penalties."""
    import torch

    if not bool((batch.sampler.penalty != 1.0).any()):
        return None
    counts = torch.zeros((batch.ids.shape[0], vocab), dtype=torch.int32)
    return counts.scatter_add_(1, batch.ids, batch.mask.int()) > 0


def _append(batch: _Batch, tokens: Any) -> None:
    import torch

    batch.ids = torch.cat([batch.ids, tokens.unsqueeze(1)], dim=1)
    batch.mask = torch.cat([batch.mask, torch.ones_like(tokens).unsqueeze(1)], dim=1)


def _finish(batch: _Batch, eos_id: int, first_new: int
            ) -> Generator[Done, None, _Batch | None]:
    """Take the token just sampled for rows ``first_new`` on (the rows before it, when a
    group was just merged in, took theirs the step before); yield the rows that ended,
    drop them; return the rest (or None)."""
    import torch

    now = time.perf_counter()
    keep = list(range(first_new))
    for row, token in enumerate(batch.ids[first_new:, -1].tolist(), start=first_new):
        job, out = batch.jobs[row], batch.out[row]
        if token != eos_id:
            out.append(token)
        if token == eos_id or len(out) >= job.params.max_tokens:
            yield Done(job.index, out, token != eos_id, now - batch.started[row])
        else:
            keep.append(row)
    if not keep:
        return None
    if len(keep) < len(batch.jobs):
        idx = torch.tensor(keep, dtype=torch.long)
        batch.cache.batch_select_indices(idx.to(_device(batch.cache)))
        batch.ids, batch.mask = batch.ids[idx], batch.mask[idx]
        batch.sampler.keep(keep)
        batch.jobs = [batch.jobs[i] for i in keep]
        batch.out = [batch.out[i] for i in keep]
        batch.started = [batch.started[i] for i in keep]
        used = batch.mask.any(0).nonzero()
        first = int(used[0]) if len(used) else 0
        if first:  # columns no remaining row uses: trim them from the left
            batch.ids, batch.mask = batch.ids[:, first:], batch.mask[:, first:]
            for layer in batch.cache.layers:
                layer.keys = layer.keys[:, :, first:]
                layer.values = layer.values[:, :, first:]
    return batch


def _merge(a: _Batch, b: _Batch) -> _Batch:
    """Stack two batches: left-pad the shorter one's tokens, mask and cache columns."""
    import torch

    width = max(a.ids.shape[1], b.ids.shape[1])

    def pad(t: Any, n: int, dim: int) -> Any:
        if n == 0:
            return t
        shape = list(t.shape)
        shape[dim] = n
        return torch.cat([torch.zeros(shape, dtype=t.dtype, device=t.device), t], dim=dim)

    na, nb = width - a.ids.shape[1], width - b.ids.shape[1]
    a.ids = torch.cat([pad(a.ids, na, 1), pad(b.ids, nb, 1)])
    a.mask = torch.cat([pad(a.mask, na, 1), pad(b.mask, nb, 1)])
    for la, lb in zip(a.cache.layers, b.cache.layers, strict=True):
        la.keys = torch.cat([pad(la.keys, na, 2), pad(lb.keys, nb, 2)])
        la.values = torch.cat([pad(la.values, na, 2), pad(lb.values, nb, 2)])
    a.sampler.merge(b.sampler)
    a.jobs += b.jobs
    a.out += b.out
    a.started += b.started
    return a


def _device(cache: Any) -> Any:
    return cache.layers[0].keys.device
