"""Reading an OpenAI-compatible server's answers: each answer is a result, a failure that
another attempt may fix (``Retryable``) or one that it cannot (``Fatal``).

The rules the ``openai`` backend retries by: HTTP 408, 409, 429 and 5xx, malformed JSON
and a choice without text are worth another attempt; other 4xx answers are not. Token
counts are bookkeeping: a bad one is 0, never a reason to drop the reply it came with.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from harness.summarize.usage import MAX_TOKEN_COUNT

if TYPE_CHECKING:
    import httpx

_RETRY_STATUS = frozenset({408, 409, 429})


class Retryable(Exception):
    """One attempt failed in a way that another attempt may fix."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class NoText(Retryable):
    """A well-formed reply whose choice has no text (``content: null``: a refusal); its
    ``usage`` is kept for a request that takes it as the (empty) answer."""

    def __init__(self, message: str, usage: tuple[int, int]):
        super().__init__(message)
        self.usage = usage


class Fatal(Exception):
    """One attempt failed in a way that retrying cannot fix (e.g. HTTP 400, 401, 404)."""



def check_response(resp: httpx.Response) -> Any:
    """Return the response's JSON; raise ``Retryable`` or ``Fatal`` for a bad answer."""
    if resp.status_code != 200:
        detail = resp.text[:200].replace("\n", " ")
        message = f"HTTP {resp.status_code}: {detail}"
        if resp.status_code in _RETRY_STATUS or resp.status_code >= 500:
            raise Retryable(message, _retry_after(resp.headers.get("retry-after")))
        raise Fatal(message)
    try:
        return resp.json()
    except UnicodeDecodeError:  # bytes that are not UTF-8: U+FFFD, as for lone surrogates
        pass
    except json.JSONDecodeError as exc:
        raise Retryable(f"malformed JSON in the response: {exc}") from None
    try:
        return json.loads(resp.content.decode("utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        raise Retryable(f"malformed JSON in the response: {exc}") from None


def _retry_after(value: str | None) -> float | None:
    """Return the ``Retry-After`` header in seconds, or None (HTTP-date form ignored)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def parse_choice(data: Any, prompt: str | None) -> tuple[str, str, tuple[int, int]]:
    """Return ``(text, finish_reason, (prompt_tokens, completion_tokens))`` of the first
    choice; raise ``Retryable`` if the response is malformed.

    A choice without text, including ``"content": null`` (what a server sends for a refusal,
    a content filter or a tool call), raises ``NoText``: for a generation it is a failed
    request, not an empty one (storing it as ``""`` would score a failure as a perfectly
    degenerate sample); a judge's call (``Request.no_text_ok``) stores it as an empty,
    unreadable answer once retries are spent. An empty string is a real (empty) generation.
    Lone surrogate escapes (``"\\ud800"``, valid JSON but not Unicode) become U+FFFD, as a
    UTF-8 decoder does with broken bytes (``check_response`` decodes those so), so the
    text can be stored."""
    try:
        choice = data["choices"][0]
        if not isinstance(choice, dict):
            raise TypeError
    except (KeyError, IndexError, TypeError):
        raise Retryable(f"malformed response (no choices[0] text): {str(data)[:200]}") from None
    message = choice.get("message") if prompt is None else choice
    text = message.get("content" if prompt is None else "text") \
        if isinstance(message, dict) else None
    if not isinstance(text, str):
        what = "null" if text is None else type(text).__name__
        raise NoText(f"malformed response (the text is {what}, not a string)", _usage(data))
    finish = "length" if choice.get("finish_reason") == "length" else "stop"
    return _LONE_SURROGATE.sub("\ufffd", text), finish, _usage(data)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _usage(data: Any) -> tuple[int, int]:
    """Return ``(prompt_tokens, completion_tokens)`` from ``usage``; a count that is absent,
    not a number (``"x"``, ``true``, a list), negative, not whole, not finite or above
    ``MAX_TOKEN_COUNT`` is 0: the token counts are bookkeeping, and a bad one must not throw
    away the reply it came with."""
    usage = data.get("usage") if isinstance(data, dict) else None
    if not isinstance(usage, dict):
        return 0, 0
    return _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))


def _count(value: Any) -> int:
    """Return ``value`` as a token count: a whole number from 0 to ``MAX_TOKEN_COUNT``
    (``12``, ``12.0``), else 0. A count the store could not hold or sum (``2**70``,
    ``1e308``: SQLite integers stop at 2**63) is a server's bug, not a count."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if isinstance(value, float) and not value.is_integer():  # also NaN and infinities
        return 0
    if not 0 <= value <= MAX_TOKEN_COUNT:
        return 0
    return int(value)
