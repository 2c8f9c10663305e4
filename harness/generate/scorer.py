"""The scoring model of a run: whether it can be loaded here (checked before anything is
generated), loading it only when a perplexity is computed, its identity in the score cache,
and the items a run's texts are scored as."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from harness.backends import Backend
from harness.backends.base import BackendConfigError
from harness.backends.models import loadable_offline
from harness.metrics import DEFAULT_METRICS, SampleContext, with_weights
from harness.metrics.registry import METRICS
from harness.metrics.scoring import ScoreItem
from harness.records import Request
from harness.suite.schema import Suite


class LazyScorer:
    """Loads the scorer model only when a perplexity is actually computed."""

    def __init__(self, factory: Callable[[], Backend]):
        self._factory = factory
        self._backend: Backend | None = None

    def score(self, prompts, texts):  # noqa: ANN001, ANN201 - the Backend.score contract
        if self._backend is None:
            self._backend = self._factory()
        return self._backend.score(prompts, texts)


def check_scorer(suite: Suite, backend: str, model: str | None = None) -> None:
    """Refuse, before any generation, a run whose metrics need a scoring model that cannot
    be loaded here: perplexity is scored in-process with transformers (by the generating
    engine itself only when it is a local one), and a suite served by an OpenAI-compatible
    server names a model that usually exists only on the server. Raises
    ``BackendConfigError`` naming the fix."""
    model = model or suite.model
    scorer_model = suite.scorer or model
    if scorer_model == model and backend != "openai":
        return  # the generating engine scores; loading it is the run's own check
    metrics = with_weights(suite.metrics or DEFAULT_METRICS)
    needing = [m for m in metrics if m in METRICS and "scorer" in METRICS[m].needs]
    if not needing or loadable_offline(scorer_model):
        return
    where = "the suite's `scorer`" if suite.scorer else (
        f"the generating model, served by the {backend} backend" if backend == "openai"
        else "the generating model")
    raise BackendConfigError(
        f"{', '.join(needing)} needs a scoring model loaded here, and {scorer_model!r} "
        f"({where}) is neither the embedded model, a local model directory, nor in the "
        f"local Hugging Face cache. Set `scorer:` in the suite to one that is (for example "
        f"`scorer: smollm2-135m`, the embedded model), or leave {', '.join(needing)} out "
        f"of `metrics:`.")


def scorer_id(model: str, dtype: str) -> str:
    """The scorer's identity in the score cache: a bfloat16 scorer's perplexities differ
    (0.5% on average), so they are cached apart from float32's."""
    return model if dtype == "float32" else f"{model}@{dtype}"


def score_items(requests: Sequence[Request], texts: Mapping[str, str]) -> list[ScoreItem]:
    """The score items of ``requests``: a set is the n samples of one input in one cell
    (set metrics never pool inputs)."""
    return [ScoreItem(text=texts[r.key], group=(r.cell, r.input_id), key=r.key,
                      context=SampleContext(
                          messages=r.chat, prompt_text=r.prompt_text, input_text=r.input_text,
                          reference=r.reference, examples=list(r.examples),
                          constraints=dict(r.constraints))) for r in requests]
