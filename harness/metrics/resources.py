"""What a metric looks at besides the texts: each sample's context (``SampleContext``) and
the heavy things a run's metrics share (``Resources``: the scorer, the sentence embedder,
the source corpus), each loaded on first use so a run that needs none loads none.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import BadValue, InputError

if TYPE_CHECKING:
    from harness.metrics.embedding import Embedder
    from harness.metrics.overlap import SourceIndex


@dataclass
class SampleContext:
    """Everything a per-sample metric may look at besides the text itself."""

    messages: list[dict[str, str]]  # the chat prompt the text was generated from
    prompt_text: str  # the prompt flattened to text
    input_text: str = ""  # the input (e.g. the topic), for relevance
    reference: str | None = None  # gold reference when the input has one
    examples: list[str] = field(default_factory=list)  # few-shot example texts in the prompt
    constraints: dict[str, Any] = field(default_factory=dict)  # the prompt's, rendered


# What ``Resources`` builds its heavy parts with: ``embedder`` (name -> Embedder) and
# ``source_index`` (documents -> SourceIndex), put here by harness.metrics.embedding and
# harness.metrics.overlap when they are imported (importing this module imports
# harness.metrics, which imports both), so this module imports neither.
PROVIDERS: dict[str, Callable[..., Any]] = {}


class MissingResourceError(InputError, RuntimeError):
    """A metric needs something that is not available (a scorer, the embedding model);
    the message says what to do."""


class Resources:
    """Heavy things metrics share across a run, loaded on first use.

    ``scorer``: an object with ``.score(prompts, texts) -> list[list[float]]`` (per-token
    natural-log probabilities of each text given its chat prompt), or None.
    ``embedder``: the sentence embedder (``embedder`` names it: an alias or a model
    directory; default all-MiniLM-L6-v2), loaded on first access.
    ``sources``: a ``SourceIndex`` over the files in ``source_paths`` (UTF-8 text, one
    document per file, or ``.jsonl`` with a ``"text"`` field per line), or None when there
    are none.
    """

    def __init__(
        self,
        scorer: Any = None,
        source_paths: Sequence[str | Path] = (),
        embedder_factory: Callable[[], Embedder] | None = None,
        embedder: str | None = None,
    ) -> None:
        self.scorer = scorer
        # the sentence-embedding model: an alias or a directory (None: all-MiniLM-L6-v2)
        self.embedder_name = embedder
        # decides which samples are the same answer (harness.metrics.novelty); None: the
        # embedding judge on ``embedder``
        self.equivalence: Any = None
        self.source_paths = [Path(p) for p in source_paths]
        self._embedder_factory = embedder_factory
        self._embedder: Embedder | None = None
        self._sources: SourceIndex | None = None
        self._sources_loaded = False
        # per-run memo tables of the overlap metrics
        self.context_indexes: dict[tuple[str, ...], SourceIndex] = {}
        # token log-probabilities by (prompt, text), shared by perplexity and its weights
        self.logprobs: dict[tuple[str, str], list[float]] = {}
        self.match_cache: dict[tuple[str, ...], list[int]] = {}

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            if self._embedder_factory is not None:
                self._embedder = self._embedder_factory()
            else:
                self._embedder = PROVIDERS["embedder"](self.embedder_name)
        return self._embedder

    @property
    def sources(self) -> SourceIndex | None:
        if not self._sources_loaded:
            if self.source_paths:
                self._sources = PROVIDERS["source_index"](
                    read_source_documents(self.source_paths))
            self._sources_loaded = True
        return self._sources


def read_source_documents(paths: Sequence[str | Path]) -> list[str]:
    """Read source-corpus files: a ``.jsonl`` file gives one document per line (its
    ``"text"`` field); any other file is one UTF-8 document."""
    docs: list[str] = []
    for path in map(Path, paths):
        if path.suffix == ".jsonl":
            with path.open(encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    try:
                        docs.append(str(json.loads(line)["text"]))
                    except (ValueError, KeyError, TypeError) as e:
                        raise BadValue(
                            f'{path}:{lineno}: expected a JSON object with a "text" field'
                        ) from e
        else:
            docs.append(path.read_text(encoding="utf-8"))
    return docs
