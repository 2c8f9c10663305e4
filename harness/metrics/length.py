"""Length metrics."""

from __future__ import annotations

from harness.metrics.registry import SAMPLE, SET, Resources, SampleContext, metric
from harness.metrics.tokenize import tokenize


@metric(
    "length_chars",
    kind=SAMPLE,
    description="characters (Unicode code points) in the sample",
    source="-",
    higher_is=None,
)
def length_chars(
    texts: list[str], contexts: list[SampleContext], resources: Resources
) -> list[float]:
    """``len(text)``: the number of Unicode code points, whitespace and punctuation included
    (not bytes, not model tokens). 0 for an empty text."""
    return [float(len(t)) for t in texts]


@metric(
    "length_words",
    kind=SAMPLE,
    description="tokens in the sample (words; each CJK character counts as one)",
    source="harness tokenizer",
    higher_is=None,
)
def length_words(
    texts: list[str], contexts: list[SampleContext], resources: Resources
) -> list[float]:
    """``len(tokenize(text))``: words, with each CJK character one token; punctuation is
    not counted (see ``harness.metrics.tokenize``)."""
    return [float(len(tokenize(t))) for t in texts]


@metric(
    "line_count",
    kind=SAMPLE,
    description="non-empty lines in the sample",
    source="-",
    higher_is=None,
)
def line_count(
    texts: list[str], contexts: list[SampleContext], resources: Resources
) -> list[float]:
    """``|{l in text.splitlines() : l.strip() != ""}|``: lines with a non-whitespace character;
    blank lines are not counted. 0 for an empty text."""
    return [float(sum(1 for line in t.splitlines() if line.strip())) for t in texts]


@metric(
    "mean_length",
    kind=SET,
    description="mean tokens per sample in the cell",
    source="harness tokenizer",
    higher_is=None,
)
def mean_length(texts: list[str], resources: Resources) -> float:
    """``mean_i len(tokenize(s_i))``: mean harness tokens per sample (words; each CJK character
    one token). 0.0 for an empty set."""
    return sum(len(tokenize(t)) for t in texts) / len(texts) if texts else 0.0
