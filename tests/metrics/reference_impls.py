"""Reference implementations the harness metrics are checked against, reproduced from their
sources (kept close to the original code on purpose; only I/O and CLI parts removed).

- ``diversity_compression_ratio`` / ``diversity_homogenization_rougel``: the ``diversity``
  package v0.3.1 (Shaib et al., Apache-2.0), ``compression.py`` and ``homogenization.py``.
  (The package itself cannot be installed here: it pins transformers<5 and imports spaCy.)
- ``holtzman_is_repeating`` / ``holtzman_zipf``: ari-holtzman/degen ``metrics/repetition.py``
  and ``metrics/zipf.py`` (Holtzman et al. 2020).
- ``texygen_self_bleu``: Texygen ``SelfBleu`` = NLTK ``sentence_bleu`` of each sample against
  all the others, method1 smoothing, averaged.
"""

from __future__ import annotations

import gzip
import operator
import os
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np


def diversity_compression_ratio(data: list[str]) -> float:
    temp_dir = tempfile.TemporaryDirectory()
    path = Path(temp_dir.name)
    with (path / "original.txt").open("w+") as f:
        f.write(" ".join(data))
    original_size = os.path.getsize(os.path.join(path, "original.txt"))
    with gzip.GzipFile(str(path / "compressed.gz"), "w+") as f:
        f.write(gzip.compress(" ".join(data).encode("utf-8")))
    compressed_size = os.path.getsize(os.path.join(path, "compressed.gz"))
    temp_dir.cleanup()
    return round(original_size / compressed_size, 3)


def diversity_homogenization_rougel(data: list[str], scorer) -> float:
    corpus_score = 0
    for i, ref in enumerate(data):
        preds = [x for j, x in enumerate(data) if j != i]
        doc_score = sum([scorer.score(pred, ref)["rougeL"].fmeasure for pred in preds])
        corpus_score += doc_score / (len(data) - 1)
    if corpus_score == 0:
        corpus_score += len(data)
    return round(corpus_score / len(data), 3)


def holtzman_is_repeating(gen: list[str]) -> bool:
    max_n = 90
    rev_gen = list(reversed(gen))
    last_n_repeats = [0] * max_n
    for n in range(1, max_n + 1):
        n_repeat = 1
        while (
            len(rev_gen[n * n_repeat : n * (n_repeat + 1)]) == n
            and rev_gen[n * n_repeat : n * (n_repeat + 1)] == rev_gen[:n]
        ):
            n_repeat += 1
        last_n_repeats[n - 1] = n_repeat
    max_repeated_n = max(range(max_n), key=lambda x: last_n_repeats[x])
    return last_n_repeats[max_repeated_n] > 1 and (
        max_repeated_n + 1 >= 3 or last_n_repeats[max_repeated_n] > 50
    )


def holtzman_zipf(token_lists: list[list[str]], N: int = 5000) -> float:
    from scipy import stats

    cnt: Counter[str] = Counter()
    for gen in token_lists:
        cnt.update(gen)
    xs = np.arange(1, min(len(cnt), N) + 1)
    ys = np.array(sorted(cnt.values(), key=operator.neg)[:N])
    a, b, r, p, std = stats.linregress(np.log(xs), np.log(ys))
    return -a


def texygen_self_bleu_scores(token_lists: list[list[str]]) -> list[float]:
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    smoothing = SmoothingFunction().method1
    return [
        float(
            sentence_bleu(
                token_lists[:i] + token_lists[i + 1 :],
                hyp,
                weights=(0.25, 0.25, 0.25, 0.25),
                smoothing_function=smoothing,
            )
        )
        for i, hyp in enumerate(token_lists)
    ]
