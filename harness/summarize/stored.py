"""A run's summary, built once and kept in the store.

``keep`` builds the summary of a run (``harness.summarize.build.build_summary``: every
statistic, comparison and best cell that a report shows), validates it as the typed
``Summary`` and stores its JSON with the run; the runner calls it when a run ends and
``harness rate import`` when new ratings change what the run's summary holds. ``summary_of``
reads the stored one back, so a stored run's numbers do not depend on the code that
re-renders it, and every report of a run (Markdown, HTML, JSON, the terminal, a baseline)
lays out the same numbers. A run stored before summaries were kept gets one built on
first read (kept when the store is writable).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from harness.jsonout import dumps
from harness.store.tables import Store
from harness.summarize.build import build_summary
from harness.summarize.model import Summary


def keep(store: Store, run_id: str) -> Summary:
    """Build the summary of run ``run_id`` (with its samples), store it and return it as
    it reads back from the store."""
    return Summary.model_validate(json.loads(_keep(store, run_id)))


def summary_of(store: Store, run_id: str, samples: bool = True) -> Summary:
    """The stored summary of ``run_id`` (an id, a prefix or ``latest``, as ``Store.run``
    reads it); built and stored first when the run has none. Without ``samples``, the
    sample viewer's rows are left out (``checks`` and baselines do not need them)."""
    run = store.run(run_id)
    text = store.get_summary(run.id)
    data: dict[str, Any] = json.loads(text if text is not None else _keep(store, run.id))
    if not samples:
        data.pop("samples", None)
    return Summary.model_validate(data)


def _keep(store: Store, run_id: str) -> str:
    """Build the run's summary, store its JSON and return that JSON, so a summary just
    built and one read back later are the same (strict JSON: no NaN)."""
    run_id = store.run(run_id).id
    text = dumps(build_summary(store, run_id, samples=True))  # key order is column order
    _put(store, run_id, text)
    return text


def _put(store: Store, run_id: str, text: str) -> None:
    """Store ``text`` as the run's summary; on a store opened read-only (``harness report``
    of a file on a read-only disk) the summary is used and not kept."""
    try:
        store.put_summary(run_id, text)
    except sqlite3.OperationalError as exc:
        if "readonly" not in str(exc).replace(" ", "").lower():
            raise
