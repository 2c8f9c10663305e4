"""Seeded synthetic text for metric tests and benchmarks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def synthetic_texts(
    n: int,
    length: int = 60,
    seed: int = 0,
    vocab: int = 5000,
    words: Sequence[str] | None = None,
) -> list[str]:
    """Return ``n`` texts of ``length // 2 .. 3 * length // 2`` words each, drawn i.i.d.
    from a Zipf (probability ~ 1/rank) distribution over ``vocab`` words -- ``words`` if
    given (its first ``vocab`` entries), else ``w0, w1, ...`` -- with
    ``numpy.random.default_rng(seed)``."""
    vocabulary = np.array(
        list(words)[:vocab] if words is not None else [f"w{i}" for i in range(vocab)]
    )
    probs = 1.0 / np.arange(1, len(vocabulary) + 1)
    rng = np.random.default_rng(seed)
    sizes = rng.integers(length // 2, length * 3 // 2 + 1, size=n)
    draws = rng.choice(len(vocabulary), size=int(sizes.sum()), p=probs / probs.sum())
    return [" ".join(chunk) for chunk in np.split(vocabulary[draws], np.cumsum(sizes)[:-1])]
