"""The JSON the harness writes (reports, comparisons, baselines, ``score --json``,
exports): strict JSON that any parser reads and that is safe to print.

- No ``NaN`` or ``Infinity`` (Python's ``json`` writes them by default; strict parsers,
  ``jq`` and JavaScript's ``JSON.parse`` reject the file): a non-finite number is written
  as ``null``, which every value in a summary may be when it does not exist, and the
  encoder runs with ``allow_nan=False`` so nothing non-finite slips through.
- Strings keep their characters (``ensure_ascii=False``) except those a terminal acts on or
  a writer cannot encode: C1 controls, DEL, bidirectional formatting characters and lone
  surrogates are written as ``\\uXXXX`` escapes (C0 controls are escaped by ``json``
  already), so the same value reads back while ``cat report.json`` shows them inert.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# what json leaves raw with ensure_ascii=False but a terminal acts on (C1, DEL), reorders
# (bidi formatting) or UTF-8 cannot encode (lone surrogates)
_RAW = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def finite(obj: Any) -> Any:
    """``obj`` with every non-finite float (in dicts, lists and tuples) replaced by None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite(v) for v in obj]
    return obj


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps(obj, ensure_ascii=False, allow_nan=False, **kwargs)`` of ``finite(obj)``,
    with the characters in ``_RAW`` escaped."""
    text = json.dumps(finite(obj), ensure_ascii=False, allow_nan=False, **kwargs)
    return _RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
