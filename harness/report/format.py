"""How numbers read in every report and table (Markdown, HTML, terminal): one place, so a
mean, an interval or a p-value looks the same wherever it is shown. ``–`` marks a number
that does not exist (no value, no interval)."""

from __future__ import annotations

from typing import Any

MISSING = "–"


def num(v: float | None) -> str:
    """A plain number, 4 significant digits."""
    return MISSING if v is None else f"{v:.4g}"


def value_ci(m: dict[str, Any] | None, bound_digits: int = 3) -> str:
    """A cell metric as ``mean [lo, hi]`` (its 95% interval), or ``mean (no CI)`` when it
    has none (one input with one sample, one value, or an old pooled run: its ``method``
    says which). ``bound_digits``: significant digits of the bounds (2 in terminals)."""
    if m is None:
        return MISSING
    if m.get("lo") is None:
        return f"{m['mean']:.3g} (no CI)"
    d = bound_digits
    return f"{m['mean']:.3g} [{m['lo']:.{d}g}, {m['hi']:.{d}g}]"


def ci(r: dict[str, Any]) -> str:
    """A comparison row's interval ``[lo, hi]``."""
    return MISSING if r.get("lo") is None else f"[{r['lo']:.3g}, {r['hi']:.3g}]"


def p_value(p: float | None) -> str:
    return MISSING if p is None else f"{p:.2g}"


def estimate(e: dict[str, Any] | None, pct: bool = False) -> str:
    """``value [lo, hi] n=N`` of a statistic (``harness.agreement.Estimate`` as a dict),
    as a percentage with ``pct``; ``–`` when absent or not computable."""
    if not e or e.get("value") is None:
        return MISSING
    f = (lambda v: f"{v:.0%}") if pct else (lambda v: f"{v:.2f}")
    interval = f" [{f(e['lo'])}, {f(e['hi'])}]" if e.get("lo") is not None else ""
    return f"{f(e['value'])}{interval} n={e['n']}"
