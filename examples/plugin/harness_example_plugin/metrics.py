"""A metric plugin: a module whose ``@metric`` functions register when harness loads it."""

from __future__ import annotations

from harness.metrics.registry import SampleContext, metric


@metric(
    "exclamation_rate",
    kind="sample",
    description="exclamation marks per word of the sample",
    source="example plugin (examples/plugin); count('!') / max(1, words)",
    higher_is=None,
    bounds=(0.0, None),
)
def exclamation_rate(texts: list[str], contexts: list[SampleContext], resources: object
                     ) -> list[float]:
    """``count("!") / max(1, number of whitespace-separated words)`` per text. Worked
    example: "Go! Now!" has 2 marks and 2 words: 1.0."""
    return [t.count("!") / max(1, len(t.split())) for t in texts]
