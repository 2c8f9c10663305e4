"""Reading a judge's answer: a score, a checklist's yes/no answers, a pairwise winner.

Each parser returns None when the answer cannot be read with confidence; the caller records
that call as unreadable (a NULL value in ``judgments``, counted in the report), never as a
0 and never as a guess. Answers are NFKC-normalised first, so full-width digits, colons and
letters (``７``, ``：``, ``Ａ``) read like their ASCII forms, and every run of whitespace
becomes one space (one line break if it holds one). When a judge writes its verdict more
than once (reasoning, then the answer), the last one counts; when the last one cannot be
read, the answer is unreadable (an earlier verdict is not used instead).

A judge's answer comes from a server and may be anything, so every parser takes time
linear in the answer's length (no regular expression here can backtrack over more than a
few characters at a position it did not start from) and never converts an unbounded digit
string to a number.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# a number as a judge writes it: digits, decimal or thousands separators, an exponent; read
# whole (never its first digits only: a longer run of digits is read as a too-long number)
# and then judged by ``_number``. Every repetition is bounded, so a match attempt costs a
# bounded number of steps however long a run of digits is.
_NUM = r"([-+]?(?:\d{25}|\d{1,24}(?:[.,]\d{1,24}){0,4}(?:e[-+]?\d{1,6})?))"
_MAX_NUMBER_CHARS = 24
_OVER = r"(?:\s?(/|out of|of)\s?(\d{25}|\d{1,24}(?:[.,]\d{1,24}){0,4}))?"  # "/10", "out of 10"
_SCORE_LINE = re.compile(r"(?:score|rating|评分|分数|得分|打分)\s?(?:is|为|是)?\s?[:=]?\s?\"?"
                         + _NUM + _OVER)
_JSON_SCORE = re.compile(r'"score"\s?:\s?"?' + _NUM)
_LEADING = re.compile(r"^[^\w+-]*" + _NUM + _OVER + r"(?:\s?分)?(?=[^\w.,]|[.,](?!\d)|$)")
_YES = {"yes", "y", "true", "pass", "是", "对", "有"}
_NO = {"no", "n", "false", "fail", "否", "不", "无", "没有"}
_ANSWER = r"(yes|no|true|false|pass|fail|y|n|是|否|对|不|有|无|没有)"
_NUMBERED = re.compile(r"(?<!\S)(?:q(?:uestion)?\s?)?(\d{1,6})(?!\d)\s?[.)\]:、-]?\s?"
                       + _ANSWER + r"(?![a-z])")
_TOKEN = re.compile(r"(?<![a-z])" + _ANSWER + r"(?![a-z])")
_CHOICE = (r"(?:text\s?|response\s?|文本)?\[?\[?\s?"
           # two choices joined ("A or B", "A/B", "A and B"): ambiguous, read as unreadable
           r"(?:(?P<both>[ab]\s?(?:or|and|/|&|,|vs\.?|versus)\s?(?:text\s?|response\s?)?[ab])"
           r"(?![a-z])|(?P<pick>(?:(?:it is|it's)\s)?(?:an?\s)?(?:tie|draw)|平局|a|b)(?![a-z]))")
_WINNER = re.compile(r"(?:winner|better|answer|verdict|胜者|更好)\s?(?:is|是)?\s?[:=]?\s?"
                     + _CHOICE)
_BRACKETS = re.compile(r"\[\[\s?(a|b|c|tie)\s?\]\]")
_BARE = re.compile(r"^\W*(?:text|response|文本)?\s?(a|b|tie|平局)\W*$")


def _norm(answer: str) -> str:
    """The answer NFKC-normalised, without ``*`` (Markdown bold), in lower case, each run of
    whitespace one space or one line break."""
    text = unicodedata.normalize("NFKC", answer or "").replace("*", "").lower()
    return _LINES.sub("\n", _BLANKS.sub(" ", text)).strip()


_BLANKS = re.compile(r"[^\S\n]{2,}|[^\S\n ]")  # a single space is left alone
_LINES = re.compile(r" ?\n\s*")


@lru_cache(maxsize=64)
def _verdicts(hi: float) -> re.Pattern[str]:
    """A score verdict: ``Score: N`` (``Rating``, ``评分``, ...; optionally ``/M`` or ``out
    of M``), or ``N/hi``, ``N out of hi``, ``N of hi`` (a fraction over another top, such as
    ``3/4`` time, is not a verdict). Groups: the number, the ``/``, the top."""
    top = re.escape(f"{hi:g}")
    return re.compile(_SCORE_LINE.pattern + r"|(?<![\w.,+-])" + _NUM
                      + r"\s?(/|out of|of)\s?(" + top + r")(?!\d|[.,]\d)")


def _number(token: str) -> float | None:
    """The value of a number token, or None when it is not one value: a comma between digits
    (``1,000`` or ``7,5``: a thousands separator or a decimal comma, we cannot tell), two
    decimal points, or more than ``_MAX_NUMBER_CHARS`` characters (no score is written with
    that many). An exponent is read as one (``9e-1`` is 0.9, ``1e308`` is 1e308)."""
    if "," in token or token.count(".") > 1 or len(token) > _MAX_NUMBER_CHARS:
        return None
    return float(token)


def _read(token: str, over: str, top: str, lo: float, hi: float) -> float | None:
    """A score from its number token and its denominator, if any: ``N/M`` and ``N out of M``
    are read only when M is the scale's top (a 4/5 on a 1-10 scale is not rescaled: the
    judge did not answer on the scale it was given), and the value must be on the scale."""
    value = _number(token)
    if value is None:
        return None
    if over:
        m = _number(top)
        if m is None or m != hi:
            return None
    return value if lo <= value <= hi else None


def parse_score(answer: str, lo: float, hi: float) -> float | None:
    """The score in ``answer`` on the scale [lo, hi], or None.

    Read, in order: the last ``"score": N`` JSON field; else the last verdict among the
    ``Score: N`` lines (also ``Rating``, ``评分``, ``分数``, ``得分``, each optionally
    ``/M`` or ``out of M``) and the ``N/M`` or ``N out of M`` whose M is the scale's top;
    else an answer that begins with the number. That verdict is unreadable when its number
    is off the scale (a judge that answers 70 on a 1-10 scale was not followed, and guessing
    would hide it), is not one number (``1,000``), or is over another top (``4/5`` on a
    1-10 scale, ``8/100``)."""
    text = _norm(answer)
    found = _JSON_SCORE.findall(text)
    if found:
        return _read(found[-1], "", "", lo, hi)
    found = _verdicts(hi).findall(text)
    if found:
        last = found[-1]
        token, over, top = last[:3] if last[0] else last[3:]
        return _read(token, over, top, lo, hi)
    m = _LEADING.match(text)
    return _read(m.group(1), m.group(2) or "", m.group(3) or "", lo, hi) if m else None


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
    ``胜者``; ``Winner: a tie`` and ``Winner: draw`` are ties; ``Winner: A or B`` names no
    winner and is unreadable); the last ``[[X]]`` (MT-Bench's format; ``[[C]]`` is a tie);
    an answer that is nothing but ``A``, ``B``, ``Text A``, ``tie`` or ``平局``."""
    text = _norm(answer)
    winners = list(_WINNER.finditer(text))
    if winners:
        last = winners[-1]
        return None if last.group("both") else _pick(last.group("pick"))
    found = _BRACKETS.findall(text)
    if found:
        return _pick(found[-1])
    m = _BARE.match(text)
    return _pick(m.group(1)) if m else None


def _pick(word: str) -> str:
    pick = word.lower()
    if pick in ("a", "b"):
        return pick.upper()
    return "tie"  # tie, a tie, draw, it's a tie, c, 平局
