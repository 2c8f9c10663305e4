"""The one small protocol every backend implements."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
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
    """

    name: str

    def generate(self, requests: Sequence[Request]) -> Iterator[Generation]: ...

    def score(
        self, prompts: Sequence[Sequence[Message]], texts: Sequence[str]
    ) -> list[list[float]]: ...

    def close(self) -> None: ...


def chunked(items: Sequence, size: int) -> Iterable[Sequence]:
    """Yield consecutive slices of ``items`` of at most ``size`` elements."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
