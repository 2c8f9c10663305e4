"""harness: prompt-engineering experiments and evaluation.

Public API (imported lazily so ``import harness`` stays fast and never loads torch)::

    from harness import load_suite, plan, Store, run_suite, build_summary
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_suite": "harness.suite",
    "Suite": "harness.suite",
    "SuiteError": "harness.suite",
    "plan": "harness.plan",
    "Request": "harness.records",
    "Generation": "harness.records",
    "SamplingParams": "harness.records",
    "Store": "harness.store",
    "run_suite": "harness.runner",
    "build_summary": "harness.runner",
    "make_backend": "harness.backends",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
