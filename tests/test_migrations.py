"""The store's migrations: a store made by the schema before migrations existed
(tests/data/store_v1.sqlite, written by harness at commit 470cf48 with two fake-backend
runs) upgrades in place without losing a row; a newer store is refused."""

from __future__ import annotations

import shutil
import sqlite3

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.migrations import MIGRATIONS, SCHEMA_VERSION
from harness.run_summary import build_summary
from harness.store import Store, StoreError

from .conftest import ROOT

V1 = ROOT / "tests" / "data" / "store_v1.sqlite"
TABLES = ("runs", "run_items", "generations", "scores", "set_scores", "run_scores",
          "input_scores", "cell_scores")


def counts(path) -> dict[str, int]:
    with sqlite3.connect(path) as con:
        return {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}


def test_a_v1_store_upgrades_without_losing_a_row(tmp_path):
    path = tmp_path / "s.sqlite"
    shutil.copy(V1, path)
    before = counts(path)
    assert before["runs"] == 2 and before["generations"] == 120
    with sqlite3.connect(path) as con:
        run_ids = [r for (r,) in con.execute("SELECT id FROM runs")]
    store = Store(path)
    assert counts(path) == before
    applied = [n for (n,) in store.db.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert applied == [fn.__name__ for fn in MIGRATIONS]
    assert store.db.execute("SELECT value FROM meta WHERE key='schema_version'"
                            ).fetchone()[0] == str(SCHEMA_VERSION)
    for run_id in run_ids:
        run = store.run(run_id)
        assert run.status == "done" and run.profile is None  # the new column, empty
        summary = build_summary(store, run_id, samples=False)
        assert len(summary["cells"]) == 4
    store.set_profile(run_id, {"seconds": {"generate": 1.0}, "total_s": 1.0})
    assert store.run(run_id).profile["total_s"] == 1.0
    store.close()
    assert migrations_after_reopen(path) == []  # nothing left to apply


def migrations_after_reopen(path) -> list[str]:
    from harness.migrations import migrate

    con = sqlite3.connect(path)
    try:
        return migrate(con, path)
    finally:
        con.close()


def test_a_v1_store_reads_read_only_without_migrating(tmp_path):
    path = tmp_path / "s.sqlite"
    shutil.copy(V1, path)
    store = Store(path, readonly=True)
    runs = store.runs()
    assert len(runs) == 2 and all(r.profile is None for r in runs)
    store.close()
    with sqlite3.connect(path) as con:
        assert not con.execute("SELECT 1 FROM sqlite_master WHERE name='_migrations'"
                               ).fetchone()


def test_a_store_from_a_newer_harness_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    with sqlite3.connect(path) as con:
        con.execute("UPDATE meta SET value=? WHERE key='schema_version'",
                    (str(SCHEMA_VERSION + 1),))
    for readonly in (False, True):
        with pytest.raises(StoreError, match="newer harness"):
            Store(path, readonly=readonly)
    res = CliRunner().invoke(app, ["runs", "--store", str(path)])
    assert res.exit_code == 2 and "newer harness" in res.output
