"""Matrix products whose per-row results do not depend on how many rows share them.

A CPU BLAS (MKL, oneDNN) picks its kernel, and its split of the work between threads, by
the shape of a product. In float32 the kernels round differently, so the same row of
``X @ W`` can come out of a 1-row product and of a 64-row one a few ulps apart, and in a
decoding step those ulps can pick another token. Measured (``benchmarks/kernels.py``,
docs/performance.md): on an Intel Xeon with AMX a 1-row product differs from the same row
of a 64-row one (by up to 5e-5; 2 to 32 rows agree); on an AVX2 AMD EPYC with two threads
every row count of 1-3, 5-7 and 9-11 differs (a thread's share of fewer than four rows
takes another kernel), while 4, 8 and every count from 12 up agree bitwise with 64 and 256.

``stabilize`` therefore makes every ``nn.Linear`` of a model run as products of exactly
``ROW_BLOCK`` (16) rows: the rows are flattened, padded with zero rows to the next multiple
of 16, multiplied 16 rows at a time and cut back. Every product then has one shape, so a
row's arithmetic is that of a 16-row block whatever its batch mates, on any CPU: a BLAS is
deterministic for a given shape and thread count. Padding alone (one product of the padded
rows) was enough on the AMD EPYC measured, not on an Intel Xeon (family 6 model 207, AMX,
2 threads): there a 1536->576 product of 64, 80, 128 or 144 rows rounds differently from
one of 208 rows, while 16, 32 and 48 agree (tests/backends/test_rows.py). The zero rows
cost a step with few active rows almost nothing (a small step is bound by reading the
weights, not by the arithmetic); a long prefill pays for reading the weights once per 16
rows (docs/performance.md). ``row_sums`` does the same for the one row-count-dependent
reduction of the sampler: torch sums a single row in two halves on two threads, and several
rows one row per thread.
"""

from __future__ import annotations

import types
from typing import Any

ROW_BLOCK = 16  # rows per product: a multiple of every BLAS micro-kernel's row tile seen


def padded_rows(rows: int, block: int = ROW_BLOCK) -> int:
    """The row count a product of ``rows`` rows is padded to: the next multiple of
    ``block`` (at least one block)."""
    return max(block, -(-rows // block) * block)


def linear(x: Any, weight: Any, bias: Any = None, block: int = ROW_BLOCK) -> Any:
    """``torch.nn.functional.linear(x, weight, bias)`` over the rows of ``x`` (all leading
    dimensions flattened) padded with zero rows to ``padded_rows`` and multiplied ``block``
    rows at a time, so every product has the shape ``block`` × in → out; the padding is
    dropped from the result."""
    import torch

    k = x.shape[-1]
    flat = x.reshape(-1, k)
    rows = flat.shape[0]
    target = padded_rows(rows, block)
    if target != rows:
        flat = torch.cat([flat, flat.new_zeros((target - rows, k))])
    out = torch.cat([torch.nn.functional.linear(flat[i:i + block], weight, bias)
                     for i in range(0, target, block)])[:rows]
    return out.reshape(*x.shape[:-1], out.shape[-1])


def _forward(self: Any, x: Any) -> Any:
    return linear(x, self.weight, self.bias)


def stabilize(model: Any) -> Any:
    """Make every ``torch.nn.Linear`` of ``model`` compute through ``linear`` (in place;
    idempotent); return the model."""
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            module.forward = types.MethodType(_forward, module)  # type: ignore[method-assign]
    return model


def row_sums(x: Any) -> Any:
    """``x.sum(-1, keepdim=True)`` for a 2-D ``x``, with each row summed the same way
    whatever the number of rows (torch splits the sum of a single row between threads)."""
    if x.shape[0] == 1:
        return x.expand(2, -1).sum(-1, keepdim=True)[:1]
    return x.sum(-1, keepdim=True)
