"""The ``runs`` and ``run_items`` tables: one row per run (suite, model, backend, harness
version, git commit, times, status, where its time went) and the run's plan (which request
keys it contains, with variant, input, cell, grid point and sample index, in order).

A run is resumed, not duplicated: ``start_run`` picks up the newest unfinished run of the
same suite hash, model, backend and options, so a killed run continues where it stopped.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from harness.jsonout import dumps
from harness.records import Request
from harness.store.migrations import StoreError


@dataclass
class Run:
    id: str
    suite_name: str
    suite_path: str
    suite_hash: str
    model: str
    backend: str
    harness_version: str
    git_commit: str | None
    started_at: float
    finished_at: float | None
    status: str
    n_requests: int
    n_generated: int
    error: str | None
    config_json: str
    profile_json: str | None = None  # where the run's time went (harness.generate.profile)

    @property
    def config(self) -> dict[str, Any]:
        return json.loads(self.config_json or "{}")

    @property
    def profile(self) -> dict[str, Any] | None:
        return json.loads(self.profile_json) if self.profile_json else None


RUN_COLUMNS = tuple(f.name for f in fields(Run))


class RunTables:
    """``Store``'s runs and their plans."""

    db: sqlite3.Connection  # set by ``Store``, which this class is part of
    path: Path

    def start_run(self, *, suite_name: str, suite_path: str, suite_hash: str, model: str,
                  backend: str, requests: Sequence[Request], config: dict[str, Any]) -> Run:
        """Create a run and record its plan, or resume the newest unfinished run of the
        same suite hash, model and backend (its plan is replaced by ``requests``)."""
        from harness import __version__

        row = self.db.execute(
            "SELECT id FROM runs WHERE suite_hash=? AND model=? AND backend=? AND status!='done'"
            " AND config_json=? ORDER BY started_at DESC LIMIT 1",
            (suite_hash, model, backend, json.dumps(config, sort_keys=True))).fetchone()
        now = time.time()
        if row:
            run_id = row[0]
            self.db.execute("UPDATE runs SET status='running', error=NULL WHERE id=?", (run_id,))
        else:
            stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
            run_id = f"{stamp}-{uuid.uuid4().hex[:4]}"
            self.db.execute(
                "INSERT INTO runs (id, suite_name, suite_path, suite_hash, model, backend,"
                " harness_version, git_commit, started_at, status, n_requests, config_json)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (run_id, suite_name, suite_path, suite_hash, model, backend, __version__,
                 _git_commit(), now, "running", len(requests),
                 json.dumps(config, sort_keys=True)))
        self.set_plan(run_id, requests)
        return self.run(run_id)

    def set_plan(self, run_id: str, requests: Sequence[Request]) -> None:
        """Record ``requests`` as the run's plan (its items), replacing any earlier plan:
        an adaptive run's plan is what its race used."""
        self.db.execute("DELETE FROM run_items WHERE run_id=?", (run_id,))
        self.db.executemany(
            "INSERT OR REPLACE INTO run_items (run_id, request_key, variant, input_id, cell,"
            " grid_json, sample_index, position) VALUES (?,?,?,?,?,?,?,?)",
            [(run_id, r.key, r.variant, r.input_id, r.cell, json.dumps(dict(r.grid)),
              r.sample_index, i) for i, r in enumerate(requests)])
        self.db.execute("UPDATE runs SET n_requests=? WHERE id=?", (len(requests), run_id))
        self.db.commit()

    def finish_run(self, run_id: str, status: str = "done", error: str | None = None) -> None:
        n = self.db.execute(
            "SELECT COUNT(*) FROM run_items i JOIN generations g ON g.key=i.request_key"
            " WHERE i.run_id=?", (run_id,)).fetchone()[0]
        self.db.execute("UPDATE runs SET finished_at=?, status=?, error=?, n_generated=?"
                        " WHERE id=?", (time.time(), status, error, n, run_id))
        self.db.commit()

    def run(self, run_id: str) -> Run:
        """Return the run ``run_id`` (or ``latest``); raise ``StoreError`` if unknown."""
        select = f"SELECT {', '.join(RUN_COLUMNS)} FROM runs"
        if run_id == "latest":
            row = self.db.execute(f"{select} ORDER BY started_at DESC LIMIT 1").fetchone()
        elif not run_id.strip():
            row = None
        else:
            row = self.db.execute(f"{select} WHERE id=?", (run_id,)).fetchone()
            if row is None:  # a prefix of an id, taken literally (no LIKE wildcards)
                row = self.db.execute(f"{select} WHERE substr(id, 1, ?)=? ORDER BY"
                                      " started_at DESC LIMIT 1",
                                      (len(run_id), run_id)).fetchone()
        if row is None:
            raise StoreError(f"no run {run_id!r} in {self.path}")
        return Run(*row)

    def runs(self, limit: int = 20) -> list[Run]:
        rows = self.db.execute(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs"
                               " ORDER BY started_at DESC LIMIT ?", (limit,))
        return [Run(*r) for r in rows]

    def generated_by(self, run_ids: Sequence[str]) -> dict[str, int]:
        """Return {run id: how many of its generations it made itself}: those stored after
        it started (the rest were served from the store, made by an earlier run)."""
        out = dict.fromkeys(run_ids, 0)
        for start in range(0, len(run_ids), 500):
            chunk = list(run_ids[start : start + 500])
            q = ("SELECT i.run_id, COUNT(DISTINCT g.key) FROM run_items i JOIN runs r ON"
                 " r.id=i.run_id JOIN generations g ON g.key=i.request_key WHERE"
                 f" g.created_at >= r.started_at AND i.run_id IN ({','.join('?' * len(chunk))})"
                 " GROUP BY i.run_id")
            out.update(dict(self.db.execute(q, chunk).fetchall()))
        return out

    def set_profile(self, run_id: str, profile: dict[str, Any]) -> None:
        """Record where the run's time went (``harness.generate.profile.Profile.as_dict``)."""
        with self.db:
            self.db.execute("UPDATE runs SET profile_json=? WHERE id=?",
                            (json.dumps(profile), run_id))

    def run_items(self, run_id: str) -> list[dict[str, Any]]:
        """Return the run's plan joined with its generations (text is None if missing)."""
        rows = self.db.execute(
            "SELECT i.request_key, i.variant, i.input_id, i.cell, i.grid_json, i.sample_index,"
            " g.text, g.messages_json, g.completion_tokens, g.finish_reason, g.latency_s"
            " FROM run_items i LEFT JOIN generations g ON g.key=i.request_key"
            " WHERE i.run_id=? ORDER BY i.position", (run_id,))
        cols = ["key", "variant", "input_id", "cell", "grid", "sample_index", "text",
                "messages", "completion_tokens", "finish_reason", "latency_s"]
        items = []
        for row in rows:
            item = dict(zip(cols, row, strict=True))
            item["grid"] = json.loads(item["grid"])
            item["messages"] = json.loads(item["messages"]) if item["messages"] else []
            items.append(item)
        return items

    def export_jsonl(self, run_id: str) -> Iterable[str]:
        """Yield one JSON line per item of the run: plan fields, prompt and text."""
        for item in self.run_items(run_id):
            yield dumps(item)


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None
