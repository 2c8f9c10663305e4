"""The store's schema as numbered migrations, in the style of simonw/llm's ``migrations.py``.

Each migration is a function that takes the SQLite connection and changes the schema one
step; ``_migrations`` records which have run (by function name), and ``meta``'s
``schema_version`` is the number of migrations applied. Opening a store runs the ones it
lacks, in order, each in its own transaction, so a store made by any earlier harness is
upgraded in place and keeps every row. A store whose ``schema_version`` is higher than
this harness knows was written by a newer harness: it is refused with a clear message
(``StoreError``, exit 2), never half-read. A read-only open never migrates: ``read_older``
lets today's queries read an older store as it is (the tables it lacks read as empty, the
columns as NULL), so the read-only commands show every earlier release's runs.

To change the schema, append a migration; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from harness.errors import InputError

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


class StoreError(InputError):
    """The store cannot be opened, was written by a newer harness, or a run id is
    unknown."""


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    """The schema of harness 0.1 and 0.2 (stores made before migrations existed have it
    already; every statement is IF NOT EXISTS)."""
    _script(db, """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, suite_name TEXT, suite_path TEXT, suite_hash TEXT,
    model TEXT, backend TEXT, harness_version TEXT, git_commit TEXT,
    started_at REAL, finished_at REAL, status TEXT, n_requests INTEGER,
    n_generated INTEGER DEFAULT 0, error TEXT, config_json TEXT);
CREATE TABLE IF NOT EXISTS run_items (
    run_id TEXT, request_key TEXT, variant TEXT, input_id TEXT, cell TEXT,
    grid_json TEXT, sample_index INTEGER, position INTEGER,
    PRIMARY KEY (run_id, position));
CREATE TABLE IF NOT EXISTS generations (
    key TEXT PRIMARY KEY, model TEXT, backend TEXT, messages_json TEXT, params_json TEXT,
    seed INTEGER, text TEXT, prompt_tokens INTEGER, completion_tokens INTEGER,
    finish_reason TEXT, latency_s REAL, created_at REAL);
CREATE TABLE IF NOT EXISTS scores (
    generation_key TEXT, metric TEXT, version INTEGER, context TEXT, value REAL,
    PRIMARY KEY (generation_key, metric, version, context));
CREATE TABLE IF NOT EXISTS set_scores (
    set_key TEXT, metric TEXT, version INTEGER, value REAL,
    PRIMARY KEY (set_key, metric, version));
CREATE TABLE IF NOT EXISTS run_scores (
    run_id TEXT, request_key TEXT, metric TEXT, value REAL,
    PRIMARY KEY (run_id, request_key, metric));
CREATE TABLE IF NOT EXISTS cell_scores (
    run_id TEXT, cell TEXT, metric TEXT, value REAL, PRIMARY KEY (run_id, cell, metric));
CREATE TABLE IF NOT EXISTS input_scores (
    run_id TEXT, cell TEXT, input_id TEXT, metric TEXT, value REAL,
    PRIMARY KEY (run_id, cell, input_id, metric));
CREATE INDEX IF NOT EXISTS run_items_cell ON run_items (run_id, cell);
""")


@migration
def m002_run_profile(db: sqlite3.Connection) -> None:
    """Where each run's time went (``harness run --profile``), so reports of a stored
    run can show it."""
    db.execute("ALTER TABLE runs ADD COLUMN profile_json TEXT")


@migration
def m003_judges_and_ratings(db: sqlite3.Connection) -> None:
    """LLM judges' verdicts and blinded human ratings (docs/judges.md).

    ``judgments``: one row per judge call of a run: the judged item's request key, the
    other item's key for a pairwise judge (empty otherwise), the repeat, whether the pair
    was shown swapped (``other_key`` first), the judge call's own request key in
    ``generations`` (its prompt, answer and tokens), and the parsed value (NULL when the
    answer could not be parsed: never a silent 0). ``rating_sheets`` / ``rating_items``:
    a blinded sheet's key (opaque item id -> request keys, in the order shown);
    ``human_ratings``: the ratings read back, one per (sheet, item, rater)."""
    _script(db, """
CREATE TABLE IF NOT EXISTS judgments (
    run_id TEXT, judge TEXT, item_key TEXT, other_key TEXT DEFAULT '', repeat INTEGER,
    swapped INTEGER DEFAULT 0, request_key TEXT, value REAL,
    PRIMARY KEY (run_id, judge, item_key, other_key, repeat, swapped));
CREATE TABLE IF NOT EXISTS rating_sheets (
    id TEXT PRIMARY KEY, run_id TEXT, kind TEXT, scale_json TEXT, created_at REAL);
CREATE TABLE IF NOT EXISTS rating_items (
    sheet_id TEXT, item_id TEXT, item_key TEXT, other_key TEXT DEFAULT '', position INTEGER,
    PRIMARY KEY (sheet_id, item_id));
CREATE TABLE IF NOT EXISTS human_ratings (
    sheet_id TEXT, item_id TEXT, rater TEXT, value REAL, imported_at REAL,
    PRIMARY KEY (sheet_id, item_id, rater));
""")


@migration
def m004_ratings_by_text(db: sqlite3.Connection) -> None:
    """Human ratings belong to the texts rated, not to the run a sheet was exported from:
    any run that shows a rated text (a cached rerun of the suite, another suite sharing
    the generation) shows its ratings. ``rating_items`` are looked up by the rated
    generation's key."""
    db.execute("CREATE INDEX IF NOT EXISTS rating_items_key ON rating_items (item_key)")


@migration
def m005_run_summaries(db: sqlite3.Connection) -> None:
    """A run's summary, built once when the run ends and kept (``harness.summarize.stored``),
    so a stored run's numbers do not depend on the code that later renders them.
    ``summary``: the summary's JSON; ``harness_version``: the harness that built it;
    ``created``: when, as ISO 8601 UTC text (readable in ``sqlite3`` as it is)."""
    db.execute("CREATE TABLE IF NOT EXISTS summaries (run_id TEXT PRIMARY KEY,"
               " harness_version TEXT, summary TEXT, created TEXT)")


SCHEMA_VERSION = len(MIGRATIONS)


def stored_version(db: sqlite3.Connection) -> int:
    """The ``schema_version`` recorded in the store (0 for a new, empty file)."""
    has_meta = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
                          ).fetchone()
    if not has_meta:
        return 0
    row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    try:
        return int(row[0]) if row else 0
    except ValueError:
        return 0


def newer_than_known(db: sqlite3.Connection, path: Path) -> None:
    """Raise ``StoreError`` when the store was written by a newer harness."""
    version = stored_version(db)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the store {path} has schema version {version}, written by a newer harness; "
            f"this harness knows versions up to {SCHEMA_VERSION}. Upgrade the harness "
            "(pip install -U harness), or use another --store.")


def migrate(db: sqlite3.Connection, path: Path) -> list[str]:
    """Apply the migrations the store lacks, in order; return their names."""
    newer_than_known(db, path)
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL)")
    db.commit()
    applied = {name for (name,) in db.execute("SELECT name FROM _migrations")}
    done = []
    for fn in MIGRATIONS:
        if fn.__name__ in applied:
            continue
        # one transaction per migration, taken with the write lock before reading what is
        # applied: two processes opening an old store at once migrate it once
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("SELECT 1 FROM _migrations WHERE name=?", (fn.__name__,)
                          ).fetchone():
                db.rollback()  # another process applied it meanwhile
                continue
            if fn is m002_run_profile and _has_column(db, "runs", "profile_json"):
                pass  # a store a crash left between the ALTER and the bookkeeping
            else:
                fn(db)
            db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                       (fn.__name__, time.time()))
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                       (str(SCHEMA_VERSION),))
            db.commit()
        except BaseException:
            db.rollback()
            raise
        done.append(fn.__name__)
    return done


def read_older(db: sqlite3.Connection) -> list[str]:
    """Let a read-only connection to a store of an earlier release be read with today's
    queries, without changing the file: each table a later migration added is created
    empty in the connection's TEMP schema, and each table that lacks columns a later
    migration added is shadowed by a TEMP view of it with those columns as NULL. Return
    the names shadowed (empty for a current store)."""
    current = sqlite3.connect(":memory:")
    try:
        for fn in MIGRATIONS:
            fn(current)
        schema = {name: [r[1] for r in current.execute(f"PRAGMA table_info({name})")]
                  for (name,) in current.execute(
                      "SELECT name FROM sqlite_master WHERE type='table'")}
        sql = dict(current.execute("SELECT name, sql FROM sqlite_master WHERE type='table'"))
    finally:
        current.close()
    shadowed = []
    for name, columns in schema.items():
        have = [r[1] for r in db.execute(f"PRAGMA main.table_info({name})")]
        if not have:
            db.execute(sql[name].replace("CREATE TABLE", "CREATE TEMP TABLE", 1))
        elif set(columns) - set(have):
            cols = ", ".join(c if c in have else f"NULL AS {c}" for c in columns)
            db.execute(f"CREATE TEMP VIEW {name} AS SELECT {cols} FROM main.{name}")
        else:
            continue
        shadowed.append(name)
    return shadowed


def _script(db: sqlite3.Connection, sql: str) -> None:
    """Run ``;``-separated statements inside the current transaction (``executescript``
    would commit it first)."""
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def _has_column(db: sqlite3.Connection, table: str, column: str) -> bool:
    return any(r[1] == column for r in db.execute(f"PRAGMA table_info({table})"))
