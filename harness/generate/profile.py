"""Where a run's time goes: wall-clock seconds per phase, for ``harness run --profile``
and the JSON report's ``profile``.

Phases are consecutive (``mark`` ends the previous one), except loads, which ``pause``
takes out of the phase they happen in: a scorer loaded during ``perplexity`` is counted as
``load scorer``, not as perplexity time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Profile:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.generated_tokens = 0
        self._current: str | None = None
        self._since = 0.0
        self._started = time.perf_counter()

    def mark(self, phase: str | None) -> None:
        """End the current phase and start ``phase`` (None: just end)."""
        now = time.perf_counter()
        if self._current is not None:
            self.seconds[self._current] = (self.seconds.get(self._current, 0.0)
                                           + now - self._since)
        self._current, self._since = phase, now

    @contextmanager
    def pause(self, phase: str) -> Iterator[None]:
        """Count the block as ``phase`` and not as the phase it interrupts."""
        start = time.perf_counter()
        try:
            yield
        finally:
            took = time.perf_counter() - start
            self.seconds[phase] = self.seconds.get(phase, 0.0) + took
            self._since += took

    def as_dict(self) -> dict[str, Any]:
        """``seconds`` per phase in the order they ran, ``total_s`` (the whole run,
        including what no phase covers: planning, the store, the summary), and the
        generation rate in completion tokens per second of the ``generate`` phase."""
        self.mark(None)
        gen = self.seconds.get("generate", 0.0)
        return {"seconds": {k: round(v, 3) for k, v in self.seconds.items()},
                "total_s": round(time.perf_counter() - self._started, 3),
                "generated_tokens": self.generated_tokens,
                "tokens_per_s": round(self.generated_tokens / gen, 1) if gen > 0 else None}
