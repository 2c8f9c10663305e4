"""How numbers read in every report and table (Markdown, HTML, terminal): one place, so a
mean, an interval or a p-value looks the same wherever it is shown. ``–`` marks a number
that does not exist (no value, no interval)."""

from __future__ import annotations

import re
from typing import Any

from harness.text import one_line

MISSING = "–"


def sig(v: float, digits: int) -> str:
    """``v`` to ``digits`` significant digits, like ``{v:.{digits}g}`` but without an
    exponent below a million: 1867 reads ``1867`` (3 digits: ``1870``), not ``1.87e+03``;
    very small and very large values keep the exponent."""
    text = f"{v:.{digits}g}"
    if "e+" in text and abs(v) < 1e6:
        return f"{float(text):.0f}"
    return text


def num(v: float | None) -> str:
    """A plain number, 4 significant digits."""
    return MISSING if v is None else sig(v, 4)


def value_ci(m: dict[str, Any] | None, bound_digits: int = 3) -> str:
    """A cell metric as ``mean [lo, hi]`` (its 95% interval), or ``mean (no CI)`` when it
    has none (one input with one sample, one value, or an old pooled run: its ``method``
    says which). ``bound_digits``: significant digits of the bounds (2 in terminals)."""
    if m is None:
        return MISSING
    if m.get("lo") is None:
        return f"{sig(m['mean'], 3)} (no CI)"
    d = bound_digits
    return f"{sig(m['mean'], 3)} [{sig(m['lo'], d)}, {sig(m['hi'], d)}]"


def ci(r: dict[str, Any]) -> str:
    """A comparison row's interval ``[lo, hi]``."""
    return MISSING if r.get("lo") is None else f"[{sig(r['lo'], 3)}, {sig(r['hi'], 3)}]"


def p_value(p: float | None) -> str:
    return MISSING if p is None else f"{p:.2g}"


def estimate(e: dict[str, Any] | None, pct: bool = False) -> str:
    """``value [lo, hi] n=N`` of a statistic (``harness.stats.agreement.Estimate`` as a dict),
    as a percentage with ``pct``; ``–`` when absent or not computable."""
    if not e or e.get("value") is None:
        return MISSING
    f = (lambda v: f"{v:.0%}") if pct else (lambda v: f"{v:.2f}")
    interval = f" [{f(e['lo'])}, {f(e['hi'])}]" if e.get("lo") is not None else ""
    return f"{f(e['value'])}{interval} n={e['n']}"


# every ASCII punctuation character that starts or ends inline Markdown on GitHub: escapes,
# code spans, emphasis and strikethrough, links and images, autolinks and raw HTML,
# entities, table cells, math ($...$)
_MD_ACTIVE = re.compile(r"([\\`*_~\[\]()!<>&|$])")
_BACKTICKS = re.compile(r"`+")


def md_escape(text: Any, code: bool = False) -> str:
    """Return ``text`` as inert Markdown that shows exactly its characters on one line.

    Plain (for table cells, headings, prose): each character in ``_MD_ACTIVE`` is
    backslash-escaped (CommonMark escapes any ASCII punctuation; GFM tables honour ``\\|``).
    ``code=True``: a whole code span (delimiters included) whose content is literal; its
    fence is longer than any run of backticks in the text, so the text cannot close it.
    Code spans do not honour ``\\|``, so they are never used inside a table. Either way,
    the text is ``harness.text.one_line``: tabs and line breaks become spaces (a line
    break would end the table row or heading it is in, and the next line could open a
    block), other control characters U+FFFD (NUL as CommonMark does), and bidirectional
    formatting characters (U+202E and the like, which reorder what a reader sees) are
    dropped.
    """
    s = one_line(text)
    if not code:
        return _MD_ACTIVE.sub(r"\\\1", s)
    fence = "`" * (max(map(len, _BACKTICKS.findall(s)), default=0) + 1)
    # a space pads text that starts or ends with a backtick (it would join the fence) or
    # with spaces on both sides (one of each would be stripped); an empty span is a space
    pad = " " if (s[:1] == "`" or s[-1:] == "`"
                  or (s[:1] == " " and s[-1:] == " " and s.strip())) else ""
    return f"{fence}{pad}{s or ' '}{pad}{fence}"


def truncated_share(cell: dict[str, Any]) -> str:
    """The share of a cell's samples cut by the token limit (``finish_reason`` "length"),
    as a whole percentage (``<1%`` rather than a misleading ``0%`` for a few); ``–`` when
    the run did not record why its samples ended."""
    k, n = cell.get("truncated"), cell.get("n") or 0
    if k is None or not n:
        return MISSING
    share = k / n
    return "<1%" if 0 < share < 0.005 else f"{share:.0%}"
