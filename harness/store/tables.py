"""The SQLite store: the harness's memory, plain enough to query with ``sqlite3`` or DuckDB.

``Store`` opens the file (migrating an older one, ``migrations.py``) and is composed of one
class per group of tables, each in its own module:

- ``runs.py``: ``runs`` (one row per run) and ``run_items`` (its plan);
- ``generations.py``: ``generations``, one row per request key, reused by every run;
- ``scores.py``: ``scores`` / ``set_scores`` (caches of metric values) and ``run_scores`` /
  ``input_scores`` / ``cell_scores`` (what each run reported);
- ``judges.py``: ``judgments``, one row per judge call (a ``Judgment``);
- ``ratings.py``: ``rating_sheets`` / ``rating_items`` / ``human_ratings``;
- ``summaries.py``: ``summaries``, each run's summary, built once and kept.

This module is the store's public face: ``Store``, ``StoreError``, and the records its
methods return (``Run``, ``Judgment``). WAL mode; writers commit in small batches so a
killed run loses at most one batch.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from harness.store.generations import GenerationTables
from harness.store.judges import JudgeTables, Judgment
from harness.store.migrations import StoreError, migrate, newer_than_known, read_older
from harness.store.ratings import RatingTables
from harness.store.runs import Run, RunTables
from harness.store.scores import ScoreTables
from harness.store.summaries import SummaryTables

__all__ = ["Judgment", "Run", "Store", "StoreError"]


class Store(RunTables, GenerationTables, ScoreTables, JudgeTables, RatingTables,
            SummaryTables):
    """A SQLite file of runs, generations, scores, judge calls, human ratings and run
    summaries: one connection (``db``), and the methods of each group of tables."""

    def __init__(self, path: str | Path, readonly: bool = False):
        """Open (or create) the store at ``path``. ``readonly``: for commands that only
        read (``runs``, ``report``, ``export``, ``compare``, ``baseline``): the file must
        exist and is opened read-only, so a missing store is never created and a store on a
        read-only disk can still be read; a store of an earlier release is read as it is,
        without migrating it (``migrations.read_older``). Read-write, an older store is
        migrated in place."""
        self.path = Path(path)
        if readonly:
            self._open_readonly()
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            migrate(self.db, self.path)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from None

    def _open_readonly(self) -> None:
        if not self.path.is_file():
            raise StoreError(f"no store at {self.path} (run `harness run SUITE` first, or "
                             "give --store)")
        uri = self.path.resolve().as_uri()
        for mode in ("mode=ro", "immutable=1"):  # immutable: when not even -shm can be made
            try:
                self.db = sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=30)
                self.db.execute("SELECT COUNT(*) FROM runs").fetchone()
                break
            except sqlite3.Error as exc:
                error = exc
        else:
            raise StoreError(f"cannot read store {self.path}: {error}")
        newer_than_known(self.db, self.path)
        # a store of an earlier release is read as it is (read-only: no migration): the
        # tables it lacks read as empty, the columns it lacks as None
        try:
            read_older(self.db)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read store {self.path}: {exc}") from None

    def close(self) -> None:
        self.db.close()
