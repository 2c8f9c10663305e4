"""The SQLite store: the harness's memory, plain enough to query with ``sqlite3`` or DuckDB.

Tables (see README "Where results go"):

- ``runs``: one row per run: suite name/path/hash, model, backend, harness version, git
  commit, start/end time, status (``running``, ``done``, ``failed``).
- ``run_items``: the plan of a run: which request keys it contains, with variant, input,
  cell, grid point and sample index.
- ``generations``: one row per request key (content hash of model, backend, messages,
  sampling parameters, sample index, seed): messages, params, seed, text, token counts,
  finish reason, latency. A key is generated once and reused by every run that needs it.
- ``scores``: per-sample metric values keyed by (generation, metric, version, context),
  where context hashes what else the value depends on (scorer model, references, sources).
- ``set_scores``: set-level metric values keyed by (hash of the set's generation keys,
  metric, version); a set is the samples of one input in one cell.
- ``run_scores`` / ``input_scores``: the values a run reported, per item and per (cell,
  input) for set-level metrics (what ``harness report RUN`` reads; ``scores`` and
  ``set_scores`` are the caches behind them). ``cell_scores`` holds the set-level values
  of runs made before version 0.2, which pooled all inputs of a cell; it is read only to
  show those runs.

WAL mode; writers commit in small batches so a killed run loses at most one batch.
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
from harness.records import Generation, Request
from harness.store.migrations import StoreError, migrate, newer_than_known, read_older


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
# a rating item (alias i) whose texts a run (two ? parameters: its id) shows
_SHOWN = ("i.item_key IN (SELECT request_key FROM run_items WHERE run_id=?) AND"
          " (COALESCE(i.other_key, '')='' OR i.other_key IN (SELECT request_key FROM"
          " run_items WHERE run_id=?))")


class Store:
    """A SQLite file of runs, generations and scores."""

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

    # -- runs ----------------------------------------------------------------------
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

    # -- generations ---------------------------------------------------------------
    def missing(self, requests: Sequence[Request]) -> list[Request]:
        """Return the requests whose key has no stored generation, in order."""
        have = self._existing_keys([r.key for r in requests])
        return [r for r in requests if r.key not in have]

    def _existing_keys(self, keys: Sequence[str]) -> set[str]:
        have: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            q = f"SELECT key FROM generations WHERE key IN ({','.join('?' * len(chunk))})"
            have.update(k for (k,) in self.db.execute(q, chunk))
        return have

    def add_generations(self, pairs: Iterable[tuple[Request, Generation]]) -> int:
        """Store generations (replacing any with the same key) in one transaction."""
        rows = [(g.key, r.model, g.backend, json.dumps(r.chat, ensure_ascii=False),
                 json.dumps(r.params.as_dict()), r.seed, g.text, g.prompt_tokens,
                 g.completion_tokens, g.finish_reason, g.latency_s, time.time())
                for r, g in pairs]
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO generations (key, model, backend, messages_json,"
                " params_json, seed, text, prompt_tokens, completion_tokens, finish_reason,"
                " latency_s, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        return len(rows)

    def generations(self, keys: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            q = f"SELECT key, text FROM generations WHERE key IN ({','.join('?' * len(chunk))})"
            out.update(self.db.execute(q, chunk))
        return out

    # -- scores --------------------------------------------------------------------
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

    # -- ratings -------------------------------------------------------------------
    def sheet(self, sheet_id: str) -> dict[str, Any] | None:
        """Return the rating sheet ``sheet_id`` (id, run_id, kind, scale, created_at), or
        None when there is none."""
        row = self.db.execute("SELECT id, run_id, kind, scale_json, created_at FROM"
                              " rating_sheets WHERE id=?", (sheet_id,)).fetchone()
        if row is None:
            return None
        return {"id": row[0], "run_id": row[1], "kind": row[2],
                "scale": json.loads(row[3]) if row[3] else None, "created_at": row[4]}

    def sheets(self, run_id: str) -> list[dict[str, Any]]:
        """Return the rating sheets that rated texts of a run, oldest first: ratings belong
        to the texts (generation keys), so a sheet exported from one run counts for every
        run that shows one of its rows' texts (a cached rerun shows the same texts)."""
        ids = [r[0] for r in self.db.execute(
            "SELECT s.id FROM rating_sheets s WHERE EXISTS (SELECT 1 FROM rating_items i"
            f" WHERE i.sheet_id=s.id AND {_SHOWN}) ORDER BY s.created_at, s.id",
            (run_id, run_id))]
        return [s for s in (self.sheet(i) for i in ids) if s is not None]

    def add_sheet(self, sheet_id: str, run_id: str, kind: str, scale: Any,
                  items: Sequence[tuple[str, str, str]]) -> bool:
        """Record a sheet's key: ``items`` are (item id, item key, other key) in the order
        shown. One transaction. Return False (and change nothing) when the sheet already
        exists with exactly these items; raise ``StoreError`` when it exists with others."""
        if self.sheet(sheet_id) is not None:
            if self.sheet_items(sheet_id) == [tuple(i) for i in items]:
                return False
            raise StoreError(f"rating sheet {sheet_id} already exists with other items")
        with self.db:
            self.db.execute("INSERT INTO rating_sheets (id, run_id, kind, scale_json,"
                            " created_at) VALUES (?,?,?,?,?)",
                            (sheet_id, run_id, kind, json.dumps(scale), time.time()))
            self.db.executemany("INSERT INTO rating_items (sheet_id, item_id, item_key,"
                                " other_key, position) VALUES (?,?,?,?,?)",
                                [(sheet_id, item_id, key, other, i)
                                 for i, (item_id, key, other) in enumerate(items)])
        return True

    def sheet_items(self, sheet_id: str) -> list[tuple[str, str, str]]:
        """Return a sheet's key: (item id, item key, other key) in the order shown."""
        return [(a, b, c or "") for a, b, c in self.db.execute(
            "SELECT item_id, item_key, other_key FROM rating_items WHERE sheet_id=?"
            " ORDER BY position", (sheet_id,))]

    def add_ratings(self, rows: Sequence[tuple[str, str, str, float]]) -> tuple[int, int, int]:
        """Store ratings (sheet id, item id, rater, value) in one transaction; a rating of
        the same (sheet, item, rater) replaces the earlier one. Return how many were new,
        changed and unchanged (an unchanged rating keeps its first ``imported_at``)."""
        new = changed = same = 0
        now = time.time()
        with self.db:
            for sheet_id, item_id, rater, value in rows:
                old = self.db.execute("SELECT value FROM human_ratings WHERE sheet_id=? AND"
                                      " item_id=? AND rater=?",
                                      (sheet_id, item_id, rater)).fetchone()
                if old is not None and old[0] == value:
                    same += 1
                    continue
                new, changed = (new + 1, changed) if old is None else (new, changed + 1)
                self.db.execute("INSERT OR REPLACE INTO human_ratings (sheet_id, item_id,"
                                " rater, value, imported_at) VALUES (?,?,?,?,?)",
                                (sheet_id, item_id, rater, value, now))
        return new, changed, same

    def ratings(self, run_id: str) -> list[dict[str, Any]]:
        """Return every human rating of a text the run shows (of any sheet: a rating
        belongs to the text rated; a pairwise rating counts when the run shows both texts)
        with its key: sheet, kind, scale (a rating sheet's [low, high], else None), item,
        item_key, other_key, rater, value (for a pairwise sheet, the outcome for
        ``item_key``, the text shown as A: 1 A better, 0 B better, 0.5 a tie)."""
        rows = self.db.execute(
            "SELECT s.id, s.kind, s.scale_json, i.item_id, i.item_key, i.other_key, h.rater,"
            " h.value FROM human_ratings h JOIN rating_sheets s ON s.id=h.sheet_id"
            " JOIN rating_items i ON i.sheet_id=h.sheet_id AND i.item_id=h.item_id"
            f" WHERE {_SHOWN} ORDER BY s.created_at, s.id, i.position, h.rater",
            (run_id, run_id))
        cols = ("sheet", "kind", "scale", "item", "item_key", "other_key", "rater", "value")
        return [{**dict(zip(cols, r, strict=True)), "other_key": r[5] or "",
                 "scale": json.loads(r[2]) if r[2] and r[1] == "rating" else None}
                for r in rows]

    def pairwise_verdicts(self, run_id: str) -> list[tuple[str, str, str, int, int,
                                                          float | None]]:
        """Return a run's pairwise judge calls from ``judgments``: (judge, item key, other
        key, repeat, swapped, value), ``value`` the outcome for ``item_key`` (None when the
        answer could not be read)."""
        return list(self.db.execute(
            "SELECT judge, item_key, other_key, repeat, swapped, value FROM judgments"
            " WHERE run_id=? AND other_key!='' ORDER BY judge, item_key, other_key, repeat,"
            " swapped", (run_id,)))

    # -- judges --------------------------------------------------------------------
    def save_judgments(self, run_id: str, judge: str,
                       rows: Iterable[tuple[str, str, int, int, str, float | None]]) -> None:
        """Record a judge's calls in a run: (item key, other key, repeat, swapped, the
        call's request key, value or None when its answer was unreadable), replacing the
        judge's earlier rows of the run."""
        with self.db:
            self.db.execute("DELETE FROM judgments WHERE run_id=? AND judge=?", (run_id, judge))
            self.db.executemany(
                "INSERT OR REPLACE INTO judgments (run_id, judge, item_key, other_key, repeat,"
                " swapped, request_key, value) VALUES (?,?,?,?,?,?,?,?)",
                [(run_id, judge, *row) for row in rows])

    def judgments(self, run_id: str) -> dict[str, list[dict[str, Any]]]:
        """{judge: [{item_key, other_key, repeat, swapped, request_key, value, answer,
        prompt_tokens, completion_tokens}]} of a run (empty for runs without judges, and
        for stores made before judges existed)."""
        cols = ["item_key", "other_key", "repeat", "swapped", "request_key", "value",
                "answer", "prompt_tokens", "completion_tokens"]
        out: dict[str, list[dict[str, Any]]] = {}
        for judge, *row in self.db.execute(
                "SELECT j.judge, j.item_key, j.other_key, j.repeat, j.swapped, j.request_key,"
                " j.value, g.text, g.prompt_tokens, g.completion_tokens FROM judgments j"
                " LEFT JOIN generations g ON g.key=j.request_key WHERE j.run_id=?"
                " ORDER BY j.judge, j.rowid", (run_id,)):
            out.setdefault(judge, []).append(dict(zip(cols, row, strict=True)))
        return out

    def usage(self, run_id: str) -> dict[str, dict[str, Any]]:
        """Tokens of the run's generations and of its judges' calls, by model: {"generation"
        | "judge <name>": {"model", "calls", "prompt_tokens", "completion_tokens"}}, each
        distinct request counted once (whether generated by this run or reused)."""
        from harness.summarize.usage import MAX_TOKEN_COUNT

        # a count outside 0..MAX_TOKEN_COUNT (a server's bug, stored by an older harness)
        # is 0, so that no sum overflows SQLite's integers
        tokens = ", ".join(f"SUM(CASE WHEN g.{c} BETWEEN 0 AND {MAX_TOKEN_COUNT} THEN g.{c}"
                           " ELSE 0 END)" for c in ("prompt_tokens", "completion_tokens"))
        out: dict[str, dict[str, Any]] = {}
        queries = [("generation", f"SELECT g.model, COUNT(*), {tokens} FROM generations g"
                    " WHERE g.key IN (SELECT request_key FROM run_items WHERE run_id=?)"
                    " GROUP BY g.model"),
                   ("judge", f"SELECT j.judge || '|' || g.model, COUNT(*), {tokens}"
                    " FROM generations g JOIN (SELECT DISTINCT judge, request_key FROM"
                    " judgments WHERE run_id=?) j ON g.key=j.request_key"
                    " GROUP BY j.judge, g.model")]
        for what, q in queries:
            for label, calls, p_tok, c_tok in self.db.execute(q, (run_id,)):
                judge, _, model = label.rpartition("|") if what == "judge" else ("", "", label)
                out[f"judge {judge}" if judge else what] = {
                    "model": model, "calls": calls, "prompt_tokens": int(p_tok or 0),
                    "completion_tokens": int(c_tok or 0)}
        return out

    # -- summaries -----------------------------------------------------------------
    def put_summary(self, run_id: str, summary_json: str) -> None:
        """Keep ``summary_json`` as the run's summary (replacing an earlier one), with the
        harness version that built it and the time (ISO 8601, UTC)."""
        from harness import __version__

        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO summaries (run_id, harness_version,"
                            " summary, created) VALUES (?,?,?,?)",
                            (run_id, __version__, summary_json, created))

    def get_summary(self, run_id: str) -> str | None:
        """The run's kept summary JSON, or None when none was kept (a run of an earlier
        release, or one that has not ended)."""
        row = self.db.execute("SELECT summary FROM summaries WHERE run_id=?",
                              (run_id,)).fetchone()
        return row[0] if row else None

    # -- export --------------------------------------------------------------------
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
