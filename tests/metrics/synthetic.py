"""Seeded synthetic text for metric tests and benchmarks (benchmarks/metrics.py and
benchmarks/simulation.py import it from here): not part of the harness a user installs."""

from __future__ import annotations

import math
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


def synthetic_inputs(n_inputs: int, seed: int, log_sd: float, n_sets: int = 1,
                     samples: int = 4, median_vocab: float = 150.0,
                     length: tuple[int, int] = (20, 60), zipf: float = 1.1
                     ) -> list[list[list[str]]]:
    """Return ``[input][set][text]``: synthetic inputs whose samples differ by input, for
    simulating set metrics. Input i has its own vocabulary of V_i words ``t{i}w{r}``
    (V_i = lognormal(log ``median_vocab``, ``log_sd``), at least 5); each of its
    ``n_sets`` independent sets holds ``samples`` texts of ``length`` words drawn with
    p ∝ rank^-``zipf``, with ``numpy.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    sizes = np.maximum(5, np.exp(rng.normal(math.log(median_vocab), log_sd, n_inputs))
                       .round()).astype(int)
    out = []
    for i, v in enumerate(sizes):
        cdf = np.cumsum(1.0 / np.arange(1, v + 1) ** zipf)
        cdf /= cdf[-1]
        vocab = np.array([f"t{i}w{r}" for r in range(v)])
        sets = []
        for _ in range(n_sets):
            lens = rng.integers(length[0], length[1] + 1, size=samples)
            words = vocab[np.minimum(np.searchsorted(cdf, rng.random(lens.sum())), v - 1)]
            sets.append([" ".join(c) for c in np.split(words, np.cumsum(lens)[:-1])])
        out.append(sets)
    return out
