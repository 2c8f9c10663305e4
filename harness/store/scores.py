"""The score tables. ``scores``: per-sample metric values keyed by (generation, metric,
version, context), where context hashes what else the value depends on (scorer model,
references, sources); ``set_scores``: set-level values keyed by (hash of the set's
generation keys, metric, version). These two are caches: a value is computed once for the
texts it depends on, whichever run asks.

``run_scores`` / ``input_scores``: the values a run reported, per item and per (cell,
input) for set-level metrics (what ``harness report RUN`` reads). ``cell_scores`` holds the
set-level values of runs made before version 0.2, which pooled all inputs of a cell; it is
read only to show those runs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence


class ScoreTables:
    """``Store``'s metric values: the caches and what each run reported."""

    db: sqlite3.Connection  # set by ``Store``, which this class is part of

    def sample_scores(self, keys: Sequence[str], metric: str, version: int, context: Sequence[str]
                      ) -> dict[str, float]:
        """Return stored values of ``metric`` for (key, context) pairs, keyed by key."""
        out: dict[str, float] = {}
        pairs = list(zip(keys, context, strict=True))
        for start in range(0, len(pairs), 400):
            chunk = pairs[start : start + 400]
            cond = " OR ".join(["(generation_key=? AND context=?)"] * len(chunk))
            args = [x for pair in chunk for x in pair]
            q = ("SELECT generation_key, value FROM scores"
                 f" WHERE metric=? AND version=? AND ({cond})")
            out.update(self.db.execute(q, [metric, version, *args]))
        return out

    def add_sample_scores(self, metric: str, version: int,
                          rows: Iterable[tuple[str, str, float]]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO scores (generation_key, metric,"
                                " version, context, value) VALUES (?,?,?,?,?)",
                                [(k, metric, version, c, v) for k, c, v in rows])

    def set_score(self, set_key: str, metric: str, version: int) -> float | None:
        row = self.db.execute("SELECT value FROM set_scores WHERE set_key=? AND metric=?"
                              " AND version=?", (set_key, metric, version)).fetchone()
        return row[0] if row else None

    def add_set_score(self, set_key: str, metric: str, version: int, value: float) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO set_scores (set_key, metric, version,"
                            " value) VALUES (?,?,?,?)",
                            (set_key, metric, version, value))

    def save_run_scores(self, run_id: str, keys: Sequence[str],
                        sample: dict[str, list[float | None]],
                        sets: dict[tuple[str, str], dict[str, float]]) -> None:
        """Record the per-item values and the per-(cell, input) set-level values of a run
        (replacing earlier ones). A None value (e.g. a judge whose every answer about the
        item was unreadable) is not stored: the item has no value of that metric."""
        with self.db:
            for table in ("run_scores", "input_scores", "cell_scores"):
                self.db.execute(f"DELETE FROM {table} WHERE run_id=?", (run_id,))
            self.db.executemany("INSERT OR REPLACE INTO run_scores (run_id, request_key,"
                                " metric, value) VALUES (?,?,?,?)",
                                [(run_id, k, m, v) for m, values in sample.items()
                                 for k, v in zip(keys, values, strict=True) if v is not None])
            self.db.executemany("INSERT OR REPLACE INTO input_scores (run_id, cell,"
                                " input_id, metric, value) VALUES (?,?,?,?,?)",
                                [(run_id, cell, inp, m, v) for (cell, inp), vals in sets.items()
                                 for m, v in vals.items()])

    def run_scores(self, run_id: str) -> tuple[dict[str, dict[str, float]],
                                               dict[tuple[str, str], dict[str, float]],
                                               dict[str, dict[str, float]]]:
        """Return ``({request key: {metric: value}}, {(cell, input id): {metric: value}},
        {cell: {metric: value}})`` of a run; the last holds pooled set-level values of runs
        made before per-input scoring (empty for newer runs)."""
        sample: dict[str, dict[str, float]] = {}
        for k, m, v in self.db.execute(
                "SELECT request_key, metric, value FROM run_scores WHERE run_id=?", (run_id,)):
            sample.setdefault(k, {})[m] = v
        sets: dict[tuple[str, str], dict[str, float]] = {}
        for c, i, m, v in self.db.execute(
                "SELECT cell, input_id, metric, value FROM input_scores WHERE run_id=?",
                (run_id,)):
            sets.setdefault((c, i), {})[m] = v
        pooled: dict[str, dict[str, float]] = {}
        for c, m, v in self.db.execute(
                "SELECT cell, metric, value FROM cell_scores WHERE run_id=?", (run_id,)):
            pooled.setdefault(c, {})[m] = v
        return sample, sets, pooled
