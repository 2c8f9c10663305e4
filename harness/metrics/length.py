"""Length metrics."""

from __future__ import annotations

from harness.metrics.registry import SAMPLE, SET, Resources, SampleContext, metric
from harness.metrics.tokenize import tokenize


def count_chars(text: str) -> int:
    """Return the number of non-whitespace Unicode code points in ``text``."""
    return sum(1 for ch in text if not ch.isspace())


def count_words(text: str) -> int:
    """Return the number of harness tokens in ``text`` (each CJK character one word)."""
    return len(tokenize(text))


def count_lines(text: str) -> int:
    """Return the number of lines of ``text`` with a non-whitespace character."""
    return sum(1 for line in text.splitlines() if line.strip())


@metric(
    "length_chars",
    bounds=(0.0, None),
    kind=SAMPLE,
    description="non-whitespace characters (Unicode code points) in the sample",
    source="-",
    higher_is=None,
    version=2,
)
def length_chars(
    texts: list[str], contexts: list[SampleContext], resources: Resources
) -> list[float]:
    """``|{c in text : not c.isspace()}|``: Unicode code points that are not whitespace,
    punctuation included (not bytes, not model tokens), so a Chinese length target counts
    characters and English ones are not inflated by spacing; the ``min_chars``/``max_chars``
    constraints count the same way. 0 for an empty text."""
    return [float(count_chars(t)) for t in texts]


@metric(
    "length_words",
    bounds=(0.0, None),
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
    return [float(count_words(t)) for t in texts]


@metric(
    "line_count",
    bounds=(0.0, None),
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
    return [float(count_lines(t)) for t in texts]


@metric(
    "mean_length",
    bounds=(0.0, None),
    kind=SET,
    description="mean tokens per sample in the cell",
    source="harness tokenizer",
    higher_is=None,
)
def mean_length(texts: list[str], resources: Resources) -> float:
    """``mean_i len(tokenize(s_i))``: mean harness tokens per sample (words; each CJK character
    one token). 0.0 for an empty set."""
    return sum(len(tokenize(t)) for t in texts) / len(texts) if texts else 0.0


MIN_TOKENS = 3  # a reply of fewer harness tokens says (next to) nothing


@metric(
    "degenerate",
    bounds=(0.0, 1.0),
    kind=SAMPLE,
    description=f"1 if the sample is empty, symbols only or under {MIN_TOKENS} words "
                "(its cell mean: the share of such samples)",
    source="-",
    higher_is="worse",
)
def degenerate(
    texts: list[str], contexts: list[SampleContext], resources: Resources
) -> list[float]:
    """``1.0 if len(tokenize(text)) < MIN_TOKENS else 0.0``: empty texts, whitespace,
    punctuation, symbols and emoji only (the tokenizer drops them), and replies under 3
    words (CJK: characters) are degenerate. Such samples make set metrics look diverse (4
    empty strings have Self-BLEU 0 and homogenization 0, the best values), so a cell's
    share of them is shown beside its diversity metrics, and a cell where half or more
    are degenerate never counts as best or on the Pareto frontier."""
    return [1.0 if count_words(t) < MIN_TOKENS else 0.0 for t in texts]
