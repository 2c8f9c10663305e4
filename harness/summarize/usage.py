"""Token and cost accounting of a run: its generations and its judges' calls.

Tokens are what the backends reported (the hf and vllm backends count the prompt and
completion tokens they processed; an OpenAI-compatible server's ``usage``). Each distinct
request counts once, whether this run generated it or reused it from the store: the
numbers say what the run's results cost to make. Cost is computed only for models the
suite prices (``prices: {model: {input: X, output: Y}}``, per million tokens):
``(prompt_tokens × input + completion_tokens × output) / 1e6``.
"""

from __future__ import annotations

from typing import Any

# the most tokens one request can count (no model's context comes near it): a count a
# server reports above it (``2**70``, ``1e308``: SQLite integers stop at 2**63) is a bug,
# read as 0 by the openai backend and by ``Store.usage`` (for stores written before), so
# no stored count or sum of counts can overflow
MAX_TOKEN_COUNT = 10**9


def usage_section(usage: dict[str, dict[str, Any]],
                  prices: dict[str, dict[str, float]]) -> dict[str, Any]:
    """The summary's ``usage``: each row of ``Store.usage`` with its cost when priced, and
    the totals (``cost`` None unless every row is priced)."""
    rows: dict[str, dict[str, Any]] = {}
    for what, row in usage.items():
        price = prices.get(row["model"])
        cost = (None if price is None else
                (row["prompt_tokens"] * price.get("input", 0.0)
                 + row["completion_tokens"] * price.get("output", 0.0)) / 1e6)
        rows[what] = {**row, "cost": cost}
    costs = [r["cost"] for r in rows.values()]
    total = {"calls": sum(r["calls"] for r in rows.values()),
             "prompt_tokens": sum(r["prompt_tokens"] for r in rows.values()),
             "completion_tokens": sum(r["completion_tokens"] for r in rows.values()),
             "cost": sum(costs) if costs and all(c is not None for c in costs) else None}
    return {"rows": rows, "total": total,
            "note": "tokens as the backends reported them; each distinct request counted "
                    "once, generated now or reused; cost per the suite's prices (per 1M "
                    "tokens), – where a model has no price"}
