"""Secrets never reach output, logs, the store or reports.

Whoever reads a secret (the openai backend reads the API key named by
``server.api_key_env``) registers it here; every place where text leaves the process — the
CLI's error line and progress log, a failed run's ``runs.error`` in the store — passes it
through ``scrub``, which replaces each registered value (raw, stripped, and as Python or
bytes ``repr`` would escape it: ``\\n``, ``\\xe9``, ``\\u00e9``), anything after
``Bearer``, and the credentials in a URL (``http://user:password@host`` becomes
``http://***@host``: a suite's server URL may carry them) by ``***``. Scrubbing at those
boundaries covers every error path, whatever library produced the message (httpx quoting
an illegal header, a server echoing the key).
"""

from __future__ import annotations

import re

_SECRETS: set[str] = set()
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\"\\]+(\\n|\\r)?")
# the userinfo of a URL (RFC 3986: user[:password]@ after the scheme), up to the last @
# before the host ends, so a password with an @ in it is masked whole
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s'\"<>]*@")
MASK = "***"


def register_secret(value: str) -> None:
    """Remember ``value`` (and its stripped and escaped forms) as a secret to scrub."""
    for form in (value, value.strip()):
        if len(form) < 4:  # too short to scrub without mangling ordinary text
            continue
        _SECRETS.add(form)
        _SECRETS.add(form.encode("unicode_escape").decode("ascii"))
        _SECRETS.add(repr(form)[1:-1])
        _SECRETS.add(repr(form.encode("utf-8", "surrogateescape"))[2:-1])


def scrub(text: str) -> str:
    """Return ``text`` with every registered secret, every bearer token and the credentials
    of every URL masked."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    text = _USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    return _BEARER.sub(lambda m: m.group(1) + MASK, text)
