"""The one small protocol every backend implements."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Protocol

from harness.errors import InputError
from harness.records import Generation, Message, Request

DTYPES = ("float32", "bfloat16")  # the hf backend's weights and arithmetic


class BackendError(Exception):
    """A backend failed in a way the user must act on; the message says how."""


class BackendConfigError(BackendError, InputError):
    """The backend cannot start because its configuration is wrong (no URL, no key, a key
    HTTP cannot carry): bad input, which running again will not fix."""


class Backend(Protocol):
    """Generates text for requests and scores texts under the model.

    ``generate`` yields one ``Generation`` per request, in any order, as soon as each is
    done, so the caller can store them while the rest are still running.
    ``score`` returns, for each (prompt, text) pair, the log-probability (natural log) of
    each token of ``text`` given the chat ``prompt`` rendered with the model's chat template
    and the generation prompt appended, i.e. exactly the context the text was sampled in.

    Sampling: each built-in backend lists the ``SamplingParams`` fields it maps in
    ``sampling_axes`` and calls ``refuse_unhonoured`` before generating, so an axis it
    cannot apply is an error naming it rather than a text stored as if it had been.
    """

    name: str

    def generate(self, requests: Sequence[Request]) -> Iterator[Generation]: ...

    def score(
        self, prompts: Sequence[Sequence[Message]], texts: Sequence[str]
    ) -> list[list[float]]: ...

    def close(self) -> None: ...


def refuse_unhonoured(backend: str, honoured: Collection[str],
                      requests: Iterable[Request]) -> None:
    """Raise ``BackendConfigError`` when a request sets a sampling axis that ``backend``
    does not honour (not in ``honoured``) to something other than its default: generating
    without it would store texts under keys that claim it was applied."""
    for params in {r.params for r in requests}:
        unknown = [axis for axis in params.changed() if axis not in honoured]
        if unknown:
            axis = unknown[0]
            raise BackendConfigError(
                f"the {backend} backend cannot honour the sampling axis {axis!r} "
                f"(set to {getattr(params, axis)!r}); it honours "
                f"{', '.join(honoured)}. Leave {axis} out of the suite's defaults and "
                f"sampling grid, or use a backend that honours it")


def chunked(items: Sequence, size: int) -> Iterable[Sequence]:
    """Yield consecutive slices of ``items`` of at most ``size`` elements."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
