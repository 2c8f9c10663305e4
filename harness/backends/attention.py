"""Grouped-query attention without copying the keys and values on a CPU, and in float64
over a float32 model.

With a padding mask on a CPU, transformers' ``sdpa`` attention repeats every key/value
head for each query head it serves (``repeat_kv``) before calling
``scaled_dot_product_attention``: a copy of the whole KV cache, times the group size, in
every layer at every decoding step. On the embedded model (9 query heads, 3 KV heads) at
125 rows and 220 cached tokens that is 1.19 s per step; passing ``enable_gqa=True`` to
the same kernel instead takes 0.07 s (``benchmarks/throughput.py`` shows the end-to-end
effect). The results agree to float rounding; every other case is handed to transformers'
own ``sdpa`` function unchanged.

**float64 attention** (issue 29). A row's cache is left-padded by as many columns as its
batch mates' prompts need, and a float32 softmax and weighted sum over the cached columns
add in vector lanes whose alignment moves with that padding: the same row's attention then
rounds differently (up to 2.4e-5 in the logits, measured), which can change a sampled
token (it did: one text in 41 between a 64-row and a 3-row batching on an AVX2 EPYC).
On a CPU, ``WideCache`` keeps the keys and values of a float32 model in float64 (each new column is
converted once, as it is cached), and attention over a float64 cache runs in float64 and
rounds its output to float32. The float64 result moves with the padding by ~1e-16
relative, far below float32's resolution (6e-8), so the float32 output is the same bits
whatever the padding, on any kernel (measured: 0 of 737,280 outputs differ over 64 padding
widths and 20 draws, against 374,648 in float32; `benchmarks/kernels.py`). bfloat16 models
keep a bfloat16 cache: they make no such promise.
"""

from __future__ import annotations

import functools
from typing import Any

NAME = "harness_sdpa"


def register() -> str:
    """Register the attention under ``NAME`` (idempotent) and return the name, to pass
    as ``attn_implementation``."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(NAME, _attention)
    AttentionMaskInterface.register(NAME, sdpa_mask)
    return NAME


def _attention(module: Any, query: Any, key: Any, value: Any, attention_mask: Any,
               dropout: float = 0.0, scaling: float | None = None,
               is_causal: bool | None = None, **kwargs: Any) -> tuple[Any, None]:
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if (query.device.type == "cpu" and not module.training and not kwargs.get("cache")
            and (attention_mask is None or attention_mask.dtype == torch.bool)):
        if attention_mask is None:  # one call for every batch: the same kernel with a mask
            attention_mask = _causal_mask(query.shape[2], key.shape[2], query.device)
        out = torch.nn.functional.scaled_dot_product_attention(
            query.to(key.dtype), key, value, attn_mask=attention_mask, dropout_p=0.0,
            scale=scaling, enable_gqa=query.shape[1] != key.shape[1])
        return out.to(query.dtype).transpose(1, 2).contiguous(), None
    if key.dtype != query.dtype:  # a WideCache elsewhere: attention at the query's dtype
        key, value = key.to(query.dtype), value.to(query.dtype)
    return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout,
                                  scaling=scaling, is_causal=is_causal, **kwargs)


def _causal_mask(q_len: int, kv_len: int, device: Any) -> Any:
    """The boolean mask [1, 1, q_len, kv_len] of a causal step whose queries are the last
    ``q_len`` of ``kv_len`` positions (what ``is_causal`` means with a cache)."""
    import torch

    rows = torch.arange(kv_len - q_len, kv_len, device=device).unsqueeze(1)
    return (torch.arange(kv_len, device=device).unsqueeze(0) <= rows)[None, None]


def new_cache(device: str) -> Any:
    """An empty KV cache for a model on ``device``: on a CPU a ``WideCache`` (a
    ``DynamicCache`` whose layers keep float32 keys and values in float64; other dtypes as
    they come), elsewhere a plain ``DynamicCache`` (a GPU's float64 is slow, and the
    float32 promise is the CPU's)."""
    from transformers import DynamicCache

    return _wide_cache_class()() if str(device).startswith("cpu") else DynamicCache()


@functools.cache
def _wide_cache_class() -> Any:
    """``WideCache``, defined on first use (transformers is imported lazily)."""
    import torch
    from transformers.cache_utils import Cache, DynamicCache, DynamicLayer

    class WideLayer(DynamicLayer):
        def update(self, key_states: Any, value_states: Any, *args: Any,
                   **kwargs: Any) -> tuple[Any, Any]:
            if key_states.dtype == torch.float32:
                key_states = key_states.to(torch.float64)
                value_states = value_states.to(torch.float64)
            return super().update(key_states, value_states, *args, **kwargs)

    class WideCache(DynamicCache):
        def __init__(self) -> None:
            Cache.__init__(self, layer_class_to_replicate=WideLayer)

    return WideCache


def cache_itemsize(dtype: Any, device: str) -> int:
    """Bytes per cached key or value element for a model of ``dtype`` on ``device``
    (float32 on a CPU: 8, as ``new_cache`` keeps it)."""
    import torch

    wide = dtype == torch.float32 and str(device).startswith("cpu")
    return 8 if wide else int(dtype.itemsize)
