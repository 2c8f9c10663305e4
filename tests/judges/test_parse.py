"""Reading judges' answers: every format the templates ask for and the ones small models
write instead; anything not read with confidence is None (recorded as unreadable)."""

from __future__ import annotations

import pytest

from harness.judges.parse import parse_checklist, parse_choice, parse_score


@pytest.mark.parametrize("answer,expected", [
    ("Score: 7", 7.0),
    ("score：８", 8.0),  # full-width colon and digit
    ("**Score:** 9\n", 9.0),
    ("The poem is vivid. Score: 4. On reflection, Score: 5", 5.0),  # the last verdict
    ('{"score": 3, "reason": "flat"}', 3.0),
    ("I would rate it 6/10.", 6.0),
    ("8 out of 10", 8.0),
    ("Rating: 8/10", 8.0),
    ("7", 7.0),
    ("7.5 - solid imagery", 7.5),
    ("评分：6", 6.0),
    ("得分是 8 分", 8.0),
])
def test_scores_are_read(answer: str, expected: float) -> None:
    assert parse_score(answer, 1, 10) == expected


@pytest.mark.parametrize("answer", [
    "70",  # off the scale: not followed, never clipped
    "Score: 11",
    "Score: 0",
    "The text has 4 lines and one image.",  # a number that is not a score
    "I cannot judge this text.",
    "",
    "3/5",  # a different scale's top
])
def test_unreadable_scores_are_none(answer: str) -> None:
    assert parse_score(answer, 1, 10) is None


@pytest.mark.parametrize("answer,expected", [
    ("1. yes\n2. no\n3. yes", [True, False, True]),
    ("1. yes 2. no 3. yes", [True, False, True]),
    ("Q1: Yes\nQ2: No\nQ3: no", [True, False, False]),
    ("yes, no, yes", [True, False, True]),
    ("1. 是\n2. 否\n3. 是", [True, False, True]),
    ("1、是的\n2、不\n3、是", [True, False, True]),
])
def test_checklists_are_read(answer: str, expected: list[bool]) -> None:
    assert parse_checklist(answer, 3) == expected


@pytest.mark.parametrize("answer", [
    "1. yes\n2. no",  # question 3 unanswered
    "yes no",  # two answers to three questions
    "It is a fine poem.",
])
def test_incomplete_checklists_are_none(answer: str) -> None:
    assert parse_checklist(answer, 3) is None


@pytest.mark.parametrize("answer,expected", [
    ("Winner: A", "A"), ("winner: b", "B"), ("[[B]]", "B"), ("[[C]]", "tie"), ("A", "A"),
    ("Text B", "B"), ("tie", "tie"), ("Winner: tie", "tie"), ("平局", "tie"),
    ("The winner is A.", "A"), ("Ａ", "A"), ("Response A is vivid. Winner: B", "B"),
    ("胜者：A", "A"),
])
def test_choices_are_read(answer: str, expected: str) -> None:
    assert parse_choice(answer) == expected


@pytest.mark.parametrize("answer", ["Both are good", "A and B", "", "Winner: C?"])
def test_unreadable_choices_are_none(answer: str) -> None:
    assert parse_choice(answer) is None


# -- numbers that must never be invented (issue 22): each is unreadable or read exactly ----

@pytest.mark.parametrize("answer,lo,hi,expected", [
    ("Score: 1e308", 1, 10, None),  # an exponent is read as one: 1e308 is off the scale
    ('{"score": 1e308}', 1, 10, None),
    ("Score: 10e5", 1, 10, None),
    ("Score: 9e-1", 1, 10, None),
    ("Score: 9e-1", 0, 1, 0.9),
    ("Score: 1,000", 1, 10, None),  # thousands separator or decimal comma: not one number
    ("Score: 7,5", 1, 10, None),
    ("Score: 7, because it is vivid", 1, 10, 7.0),
    ("Rating: 4/5", 1, 10, None),  # a denominator other than the scale's top: not rescaled
    ("Score: 8/100", 1, 10, None),
    ("Score: 8/10", 1, 10, 8.0),
    ("Score: 3 out of 5", 1, 5, 3.0),
    ("Score: 7/10 and also 3/10", 1, 10, 3.0),  # the last verdict counts
    ("Score: 7. It is written in 3/4 time.", 1, 10, 7.0),  # another fraction: no verdict
    ("Score: 7. On reflection, Score: 1,000", 1, 10, None),  # the last is unreadable
    ("-1", 1, 10, None),  # never its digits without the sign
    ("7.", 1, 10, 7.0),
    ("7.5abc", 1, 10, None),
    ("Score: " + "1" * 30, 1, 10, None),  # not the first digits of a long number
    ("Score:" + " " * 5000 + "7", 1, 10, 7.0),
])
def test_numbers_are_read_exactly_or_not_at_all(answer, lo, hi, expected) -> None:
    assert parse_score(answer, lo, hi) == expected


@pytest.mark.parametrize("answer,expected", [
    ("Winner: a tie", "tie"), ("Winner: it's a tie", "tie"), ("Winner: draw", "tie"),
    ("Winner: A or B", None), ("Winner: A/B", None), ("Winner: A and B", None),
    ("Winner: B, because A is weak", "B"),
    ("Winner: B. Final answer: A or B", None),  # the last verdict names no winner
])
def test_ambiguous_choices_are_never_a_side(answer, expected) -> None:
    assert parse_choice(answer) == expected


def test_checklist_numbers_too_long_for_an_int_are_unreadable() -> None:
    assert parse_checklist("1. yes\n" + "1" * 5000 + ". no", 1) == [True]
    # 5000 digits is no question's number: question 2 is unanswered
    assert parse_checklist("1. yes\n" + "2" * 5000 + ". no", 2) is None


def test_a_five_megabyte_answer_is_parsed() -> None:
    """The parsers are linear (benchmarks/judge_parse.py measures it: a 5 MB answer takes
    well under a second where the old score parser needed 0.76 s for 4,000 digits): each
    finishes on 5 MB of digits, the shape that hung runs at 100% CPU."""
    digits = "1" * 5_000_000
    assert parse_score(digits, 1, 10) is None
    assert parse_checklist(digits, 3) is None
    assert parse_choice(digits) is None
    assert parse_score("score" + " " * 1_000_000 + "7", 1, 10) == 7.0
