"""The progress bar of ``harness run`` and ``harness check``: the runner's ``Progress``
hooks drawn with rich on stderr (stdout keeps only the tables)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from harness.cli.terminal import err, log
from harness.text import safe

if TYPE_CHECKING:
    from harness.generate.runner import Progress


@contextmanager
def progress() -> Iterator[Progress]:
    """Hooks for one run: a bar while generating, one line (and, on a terminal, the metric
    being computed, in place) while scoring; both stopped however the run ends."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as Bar

    from harness.generate.runner import Progress as Hooks

    bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
              TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=False)
    task: dict[str, Any] = {}

    def metric(name: str) -> None:
        """One line for all the metrics (a cached rerun scores 17 from the store in a
        blink); a terminal also shows the metric being computed, in place."""
        if "scoring" not in task:
            err.print("scoring...", highlight=False, style="dim")
            task["scoring"] = err.status(f"scoring {safe(name)}...")
            task["scoring"].start()
        else:
            task["scoring"].update(f"scoring {safe(name)}...")

    def start(todo: int, total: int) -> None:
        task["gen"] = bar.add_task("generating", total=todo)
        bar.start()

    hooks = Hooks(log=log,
                  start_generation=start,
                  advance=lambda n: bar.advance(task["gen"], n),
                  end_generation=bar.stop,
                  metric=metric)
    try:
        yield hooks
    finally:
        bar.stop()
        if "scoring" in task:
            task["scoring"].stop()
