"""harness: prompt-engineering experiments and evaluation.

Public API (docs/api.md; imported lazily so ``import harness`` stays fast and never
loads torch)::

    import harness
    result = harness.run("suites/poetry.yaml", limit=1)
    harness.compare(harness.summary(result.run.id))
    harness.check("suites/poetry.yaml", "baseline.json").passed
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "run": "harness.api",
    "check": "harness.api",
    "CheckResult": "harness.stats.gate",
    "RunOptions": "harness.api",
    "summary": "harness.api",
    "compare": "harness.api",
    "runs": "harness.api",
    "samples": "harness.api",
    "score": "harness.api",
    "ReportError": "harness.api",
    "load_suite": "harness.suite.load",
    "Suite": "harness.suite.schema",
    "SuiteError": "harness.suite.load",
    "plan": "harness.suite.plan",
    "Request": "harness.records",
    "Generation": "harness.records",
    "SamplingParams": "harness.records",
    "Store": "harness.store.tables",
    "run_suite": "harness.generate.runner",
    "build_summary": "harness.summarize.build",
    "make_backend": "harness.backends",
    # the library's own errors (docs/api.md, "Errors")
    "InputError": "harness.errors",
    "UnknownName": "harness.errors",
    "GateError": "harness.stats.gate",
    "StoreError": "harness.store.migrations",
    "BackendError": "harness.backends.base",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
