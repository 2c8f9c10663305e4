"""Untrusted text (suite strings, model names, generated texts, server replies, rating
sheets) made safe to print to a terminal or a CI log, and kept on one line for a table cell
or a Markdown line.

A terminal acts on what it is sent: ESC starts sequences that set the window title, clear
the screen or open hyperlinks; bidirectional formatting characters reorder what is shown
(the "Trojan Source" attack); rich, which draws the CLI's tables, reads ``[...]`` as markup
(``[/]`` alone crashes it, ``[link=...]`` makes a live hyperlink). ``safe`` is the one
function the CLI passes every such string through before it reaches rich.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls, DEL and C1 (ESC and CSI start terminal escape sequences), and lone
# surrogates (they cannot be encoded to print)
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# bidirectional formatting characters (Unicode UAX #9): the embeddings and overrides
# U+202A-U+202E, the isolates U+2066-U+2069 and the marks ALM, LRM, RLM
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SPACES = "\t\n\r\x0b\x0c"


def one_line(text: Any) -> str:
    """``text`` as one line of inert characters: tabs and line breaks become spaces, other
    control characters (and lone surrogates) U+FFFD, bidirectional formatting characters
    are dropped."""
    s = CONTROL.sub(lambda m: " " if m.group() in _SPACES else "\ufffd", str(text))
    return BIDI.sub("", s)


def plain(text: Any) -> str:
    """``text`` with secrets masked (``harness.secrets.scrub``) and its lines made inert
    by ``one_line``; line breaks are kept (for messages and tracebacks printed without
    markup)."""
    from harness.secrets import scrub

    return "\n".join(one_line(line) for line in scrub(str(text)).split("\n"))


def safe(text: Any) -> str:
    """``text`` as rich markup that shows exactly its (scrubbed, one-line) characters: for
    every untrusted string the CLI prints, in a table cell, a title, a caption or a line.

    What rich would read as a tag (``[`` then a letter, ``#``, ``/`` or ``@``, up to ``]``)
    gets a backslash, and the backslashes before it are doubled, as ``rich.markup.escape``
    does; unlike it, a trailing backslash is left as is (rich shows it as is when nothing
    follows), so put no markup tag straight after a safe string."""
    from harness.secrets import scrub

    return _TAG.sub(lambda m: m.group(1) * 2 + "\\" + m.group(2), one_line(scrub(str(text))))


# what rich.markup reads as a tag, with the backslashes that escape it
_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")
