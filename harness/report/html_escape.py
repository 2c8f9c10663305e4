"""Escaping for the HTML report: text and attribute values, highlighted overlaps and the
JSON inside a ``<script>`` element. Everything from a suite, a model or a report file goes
through these before it reaches the page."""

from __future__ import annotations

import json
import re
from html import escape as _html_escape
from typing import Any

# C0 controls but tab, LF and CR; DEL and C1; lone surrogates (a str can hold them, UTF-8
# cannot: writing the report would fail)
_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def escape(text: Any, quote: bool = True) -> str:
    """Return ``text`` (any value, as ``str``) safe as HTML text or an attribute value:
    ``html.escape`` after replacing NUL and every other control character except tab,
    newline and carriage return (C0, DEL, C1), and lone surrogates, with U+FFFD.
    One character for one, so overlap ranges computed on the raw text still apply."""
    return _html_escape(_UNSAFE_CHARS.sub("\ufffd", str(text)), quote)


def highlight_overlaps(text: str, ranges: list[list[int]] | None) -> str:
    """Return ``text`` escaped, with the [start, end) character ranges in ``<mark>``.

    Ranges are clamped, sorted and merged on the raw text; each piece is escaped on its own,
    so no markup is ever inserted into unescaped text.
    """
    spans: list[list[int]] = []
    for r in sorted((max(0, int(a)), min(len(text), int(b))) for a, b in (ranges or [])):
        if r[0] >= r[1]:
            continue
        if spans and r[0] <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], r[1])
        else:
            spans.append(list(r))
    out, pos = [], 0
    for a, b in spans:
        out.append(escape(text[pos:a]))
        out.append(f'<mark title="copied verbatim">{escape(text[a:b])}</mark>')
        pos = b
    out.append(escape(text[pos:]))
    return "".join(out)


def script_json(obj: Any) -> str:
    """Return ``obj`` as JSON safe inside a ``<script>`` element (``<``, ``>``, ``&``, the
    JS line separators and lone surrogates, which UTF-8 cannot encode, written as
    ``\\uXXXX``; ``json`` already writes control characters so)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for ch, rep in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, rep)
    return _SURROGATES.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
