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
