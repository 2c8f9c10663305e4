"""The one tokenizer every harness metric uses (except sacreBLEU's BLEU/chrF, which keep
sacreBLEU's own standard tokenization so their numbers stay comparable with the literature).

Rules, applied in this order:

1. Each CJK character (Han ideographs incl. extensions and compatibility ideographs,
   hiragana, katakana incl. half-width, hangul syllables and jamo) is its own token, so a
   Chinese sentence is a sequence of characters, like sacreBLEU's ``zh`` tokenizer.
2. Every other maximal run of letters, digits and combining marks (Unicode ``\\w`` minus
   ``_``) is a word; an apostrophe (``'`` or ``’``) *between* two letters stays inside the
   word (``don't`` is one token). Hyphens split (``state-of-the-art`` is four tokens);
   ``3.14`` is two tokens.
3. Everything else -- punctuation, symbols, emoji, whitespace, ``_`` -- is dropped: it
   only separates tokens. (So ``Hello, world!`` and ``hello world`` tokenize the same.)
4. Each token is NFKC-normalized (full-width ``ＡＢＣ`` becomes ``abc``), lower-cased with
   ``str.lower`` and ``’`` becomes ``'``.

Scripts written without spaces other than CJK (e.g. Thai) come out as one token per run
of letters; there is no dictionary segmentation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

_CJK = (
    "\u1100-\u11ff"  # hangul jamo
    "\u3040-\u309f"  # hiragana
    "\u30a0-\u30ff"  # katakana
    "\u3130-\u318f"  # hangul compatibility jamo
    "\u31f0-\u31ff"  # katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\ua960-\ua97f"  # hangul jamo extended-A
    "\uac00-\ud7af"  # hangul syllables
    "\ud7b0-\ud7ff"  # hangul jamo extended-B
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff66-\uff9f"  # half-width katakana
    "\U00020000-\U0003134f"  # CJK extensions B-G
)
_CJK_CHAR = f"[{_CJK}]"
# a word character: a letter/digit (\w minus _) that is not CJK, or a combining mark
# (marks are not in \w, so e.g. Devanagari vowel signs would otherwise split words)
_WORD_CHAR = f"(?:[^\\W_{_CJK}]|[\u0300-\u036f\u0900-\u0dff\u1ab0-\u1aff\u20d0-\u20ff])"
_WORD = f"{_WORD_CHAR}+(?:['\u2019]{_WORD_CHAR}+)*"
_TOKEN_RE = re.compile(f"{_CJK_CHAR}|{_WORD}")
_HAS_CJK_RE = re.compile(_CJK_CHAR)
_ASCII_TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")  # the same rules on ASCII text


def _normalize(token: str) -> str:
    if token.isascii():
        return token.lower()
    return unicodedata.normalize("NFKC", token).lower().replace("\u2019", "'")


def tokenize(text: str) -> list[str]:
    """Return the tokens of ``text`` under the rules in this module's docstring."""
    if text.isascii():  # fast path, identical result
        return _ASCII_TOKEN_RE.findall(text.lower())
    return [_normalize(m.group()) for m in _TOKEN_RE.finditer(text)]


def token_spans(text: str) -> list[tuple[int, int]]:
    """Return the ``(start, end)`` character offsets in ``text`` of each token of
    ``tokenize(text)``, for highlighting."""
    return [m.span() for m in _TOKEN_RE.finditer(text)]


def has_cjk(text: str) -> bool:
    """Return True when ``text`` contains at least one CJK character."""
    return _HAS_CJK_RE.search(text) is not None


def ngrams(tokens: Sequence[str], n: int) -> Iterator[tuple[str, ...]]:
    """Yield the ``n``-grams of ``tokens`` in order (none when ``len(tokens) < n``)."""
    return zip(*(tokens[i:] for i in range(n)), strict=False)
