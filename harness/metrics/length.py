"""Length metrics, and the degenerate-sample flag."""

from __future__ import annotations

import re

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
SALAD_SHARE = 0.25  # of its Latin words with odd case: a sample this garbled is word salad
SALAD_MIN_WORDS = 4
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_OPENERS = " \t\"'“‘*_(-—"  # may stand between a sentence's end and its first word


def odd_case_words(text: str) -> tuple[int, int]:
    """Return ``(odd, words)``: how many of the Latin-script words of two or more letters
    in ``text`` have an odd case, out of how many. Odd: all capitals (``SPEECH``), a
    capital after a small letter (``sPeech``, ``AdamErilherst``), or a capital first
    letter in mid-sentence (not after the text's start, a line break or ``.!?:;``).
    Sampled at a high temperature, a small model's text turns into such words; poems do
    not: none of the public-domain poems in suites/corpora has more than 10%."""
    odd = words = 0
    for m in _LATIN_WORD.finditer(text):
        w = m.group().strip("'")
        if len(w) < 2:
            continue
        words += 1
        before = text[: m.start()].rstrip(_OPENERS)
        starts = not before or before[-1] in ".!?:;\n"
        if w.isupper() or re.search("[a-z][A-Z]", w) or (w[0].isupper() and not starts):
            odd += 1
    return odd, words


def word_salad(text: str) -> bool:
    """True when at least ``SALAD_MIN_WORDS`` and ``SALAD_SHARE`` of the Latin words of
    ``text`` have an odd case (``odd_case_words``)."""
    odd, words = odd_case_words(text)
    return odd >= SALAD_MIN_WORDS and odd >= SALAD_SHARE * words


@metric(
    "degenerate",
    bounds=(0.0, 1.0),
    kind=SAMPLE,
    description=f"1 if the sample is empty, symbols only, under {MIN_TOKENS} words or word "
                "salad (a quarter of its words in odd case; its cell mean: the share of such "
                "samples)",
    source="-",
    higher_is="worse",
    version=2,
)
def degenerate(
    texts: list[str], contexts: list[SampleContext], resources: Resources
) -> list[float]:
    """``1.0 if len(tokenize(text)) < MIN_TOKENS or word_salad(text) else 0.0``: empty
    texts, whitespace, punctuation, symbols and emoji only (the tokenizer drops them),
    replies under 3 words (CJK: characters), and word salad -- at least 4 and a quarter
    of the Latin words in odd case (all capitals, inner capitals, or capitalised in
    mid-sentence: ``odd_case_words``), as in "ABSTEROBUS filled OVER the SPEECH al the
    ADULTS ..." -- are degenerate. Such samples make set metrics look diverse (4 empty
    strings have Self-BLEU 0 and homogenization 0, the best values), so a cell's share of
    them is shown beside its diversity metrics, and a cell where half or more are
    degenerate never counts as best or on the Pareto frontier. Word salad in scripts
    without case (Chinese) is not caught here; the run's perplexity catches it
    (``harness.summarize.pareto.excluded_cells``)."""
    return [1.0 if count_words(t) < MIN_TOKENS or word_salad(t) else 0.0 for t in texts]
