"""Format constraints: does a sample meet its prompt's ``constraints:`` block?"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.metrics.length import count_chars, count_lines, count_words
from harness.metrics.registry import SAMPLE, Resources, SampleContext, metric

# constraint name -> (what it measures, test of the measured value against the limit)
_LIMITS: dict[str, tuple[Callable[[str], int], Callable[[int, int], bool]]] = {
    "min_words": (count_words, lambda n, limit: n >= limit),
    "max_words": (count_words, lambda n, limit: n <= limit),
    "min_chars": (count_chars, lambda n, limit: n >= limit),
    "max_chars": (count_chars, lambda n, limit: n <= limit),
    "lines": (count_lines, lambda n, limit: n == limit),
    "min_lines": (count_lines, lambda n, limit: n >= limit),
    "max_lines": (count_lines, lambda n, limit: n <= limit),
}


def failed_constraints(text: str, constraints: dict[str, Any]) -> list[str]:
    """Return the names of the constraints ``text`` does not meet (empty: all met).

    Words are harness tokens (``length_words``), chars non-whitespace characters
    (``length_chars``), lines non-empty lines (``line_count``); ``must_include`` and
    ``must_not_include`` are case-insensitive (``str.casefold``) substring tests.
    """
    failed = [name for name, (measure, ok) in _LIMITS.items()
              if name in constraints and not ok(measure(text), int(constraints[name]))]
    folded = text.casefold()
    if any(s.casefold() not in folded for s in constraints.get("must_include", ())):
        failed.append("must_include")
    if any(s.casefold() in folded for s in constraints.get("must_not_include", ())):
        failed.append("must_not_include")
    return failed


@metric(
    "constraint_pass",
    bounds=(0.0, 1.0),
    kind=SAMPLE,
    description="1 if the sample meets every format constraint of its prompt, else 0",
    source="format-following check (cf. IFEval, Zhou et al. 2023, arXiv:2311.07911)",
    higher_is="better",
    needs=("constraints",),
)
def constraint_pass(
    texts: list[str], contexts: list[SampleContext], resources: Resources
) -> list[float]:
    """``1.0 if failed_constraints(text, constraints) == [] else 0.0``, so the cell mean is
    the share of samples that meet every constraint (the pass rate). The metric applies
    only to prompts with constraints (``needs`` "constraints"): other samples get no
    value in a run or ``harness score`` (called directly, a prompt without constraints
    passes: 1.0)."""
    return [0.0 if failed_constraints(t, c.constraints) else 1.0
            for t, c in zip(texts, contexts, strict=True)]
