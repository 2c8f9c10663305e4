"""Which way is better for a metric: its registered ``higher_is`` (diverse, coherent,
better: up; worse: down; none: no direction), and judges' and human raters' values, which
are always better when higher. Used by the summary, comparisons, the gate and the sweep."""

from __future__ import annotations

from harness.metrics.registry import METRICS

_UP = ("diverse", "coherent", "better")
JUDGED = ("judge.", "human.")  # judges' and human raters' values: higher is better


def better_when_higher(metric: str) -> bool | None:
    """True if a higher value of ``metric`` is better/more diverse/more coherent, False if
    lower is better, None when the metric has no direction."""
    if metric.startswith(JUDGED):
        return True
    spec = METRICS.get(metric)
    return direction(spec.higher_is if spec else None)


def direction(higher_is: str | None) -> bool | None:
    """What a metric's ``higher_is`` says: True when higher is better (more diverse, more
    coherent, better), False when lower is ("worse"), None when it has no direction."""
    return None if higher_is is None else higher_is in _UP
