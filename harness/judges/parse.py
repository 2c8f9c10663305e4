"""Reading a judge's answer: a score, a checklist's yes/no answers, a pairwise winner.

Each parser returns None when the answer cannot be read with confidence; the caller records
that call as unparseable (a NULL value in ``judgments``, counted in the report), never as a
0. Answers are NFKC-normalised first, so full-width digits, colons and letters (``７``,
``：``, ``Ａ``) read like their ASCII forms. When a judge writes its verdict line more than
once (reasoning, then the answer), the last one counts.
"""

from __future__ import annotations

import re
import unicodedata

_NUM = r"(-?\d+(?:\.\d+)?)"
_SCORE_LINE = re.compile(r"(?:score|rating|评分|分数|得分|打分)\s*(?:is|为|是)?\s*[:=]?\s*\**\s*"
                         + _NUM, re.IGNORECASE)
_JSON_SCORE = re.compile(r'"score"\s*:\s*' + _NUM, re.IGNORECASE)
_OUT_OF = re.compile(_NUM + r"\s*(?:/|out of|of)\s*(\d+)", re.IGNORECASE)
_LEADING = re.compile(r"^\W*" + _NUM + r"(?!\s*[/.]\d)(?:\s*分)?(?:\W|$)")
_YES = {"yes", "y", "true", "pass", "是", "对", "有"}
_NO = {"no", "n", "false", "fail", "否", "不", "无", "没有"}
_ANSWER = r"(yes|no|true|false|pass|fail|y|n|是|否|对|不|有|无|没有)"
_NUMBERED = re.compile(r"(?:^|(?<=\s))(?:q(?:uestion)?\s*)?(\d+)\s*[.)\]:：、-]?\s*\**\s*" + _ANSWER
                       + r"(?![A-Za-z])", re.IGNORECASE | re.MULTILINE)
_TOKEN = re.compile(r"(?<![A-Za-z])" + _ANSWER + r"(?![A-Za-z])", re.IGNORECASE)
_WINNER = re.compile(r"(?:winner|better|answer|verdict|胜者|更好)\s*(?:is|是)?\s*[:=]?\s*\**\s*"
                     r"(?:text|response|文本)?\s*\[?\[?\s*(a|b|tie|平局)\b", re.IGNORECASE)
_BRACKETS = re.compile(r"\[\[\s*(a|b|c|tie)\s*\]\]", re.IGNORECASE)
_BARE = re.compile(r"^\W*(?:text|response|文本)?\s*(a|b|tie|平局)\W*$", re.IGNORECASE)


def _norm(answer: str) -> str:
    return unicodedata.normalize("NFKC", answer or "").replace("*", "").strip()


def parse_score(answer: str, lo: float, hi: float) -> float | None:
    """The score in ``answer`` on the scale [lo, hi], or None.

    Read, in order: a ``"score": N`` JSON field; the last ``Score: N`` line (also
    ``Rating``, ``评分``, ``分数``, ``得分``); the last ``N/M`` or ``N out of M`` whose M is
    the scale's top; an answer that begins with the number. A value off the scale is None:
    a judge that answers 70 on a 1-10 scale was not followed, and guessing would hide it.
    """
    text = _norm(answer)
    for pattern in (_JSON_SCORE, _SCORE_LINE):
        found = pattern.findall(text)
        if found:
            return _on_scale(float(found[-1]), lo, hi)
    out_of = [(v, top) for v, top in _OUT_OF.findall(text) if float(top) == hi]
    if out_of:
        return _on_scale(float(out_of[-1][0]), lo, hi)
    m = _LEADING.match(text)
    return _on_scale(float(m.group(1)), lo, hi) if m else None


def _on_scale(value: float, lo: float, hi: float) -> float | None:
    return value if lo <= value <= hi else None


def parse_checklist(answer: str, n: int) -> list[bool] | None:
    """The yes/no answers to ``n`` questions, in order, or None.

    Numbered answers (``1. yes``, ``Q2: no``, ``3、是``; on lines or in one line) are
    read by their number and must cover 1..n; without numbers, the answer must hold
    exactly ``n`` yes/no words."""
    text = _norm(answer)
    numbered: dict[int, bool] = {}
    for num, word in _NUMBERED.findall(text):
        numbered[int(num)] = word.lower() in _YES
    if numbered:
        if all(i in numbered for i in range(1, n + 1)):
            return [numbered[i] for i in range(1, n + 1)]
        return None
    words = [w.lower() for w in _TOKEN.findall(text)]
    if len(words) == n:
        return [w in _YES for w in words]
    return None


def parse_choice(answer: str) -> str | None:
    """``"A"``, ``"B"`` or ``"tie"`` from a pairwise judge's ``answer``, or None.

    Read, in order: the last ``Winner: X`` (also ``Better``, ``Answer``, ``Verdict``,
    ``胜者``); the last ``[[X]]`` (MT-Bench's format; ``[[C]]`` is a tie); an answer that
    is nothing but ``A``, ``B``, ``Text A``, ``tie`` or ``平局``."""
    text = _norm(answer)
    for pattern in (_WINNER, _BRACKETS, _BARE):
        found = pattern.findall(text) if pattern is not _BARE else (
            [m.group(1)] if (m := pattern.match(text)) else [])
        if found:
            pick = found[-1].lower()
            return "tie" if pick in ("tie", "c", "平局") else pick.upper()
    return None
