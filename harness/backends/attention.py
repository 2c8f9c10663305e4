"""Grouped-query attention without copying the keys and values on a CPU.

With a padding mask on a CPU, transformers' ``sdpa`` attention repeats every key/value
head for each query head it serves (``repeat_kv``) before calling
``scaled_dot_product_attention``: a copy of the whole KV cache, times the group size, in
every layer at every decoding step. On the embedded model (9 query heads, 3 KV heads) at
125 rows and 220 cached tokens that is 1.19 s per step; passing ``enable_gqa=True`` to
the same kernel instead takes 0.07 s (``benchmarks/throughput.py`` shows the end-to-end
effect). The results agree to float rounding; every other case is handed to transformers'
own ``sdpa`` function unchanged.
"""

from __future__ import annotations

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
            query, key, value, attn_mask=attention_mask, dropout_p=0.0, scale=scaling,
            enable_gqa=query.shape[1] != key.shape[1])
        return out.transpose(1, 2).contiguous(), None
    return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout,
                                  scaling=scaling, is_causal=is_causal, **kwargs)


def _causal_mask(q_len: int, kv_len: int, device: Any) -> Any:
    """The boolean mask [1, 1, q_len, kv_len] of a causal step whose queries are the last
    ``q_len`` of ``kv_len`` positions (what ``is_causal`` means with a cache)."""
    import torch

    rows = torch.arange(kv_len - q_len, kv_len, device=device).unsqueeze(1)
    return (torch.arange(kv_len, device=device).unsqueeze(0) <= rows)[None, None]
