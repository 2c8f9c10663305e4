"""The store's migrations: a store made by the schema before migrations existed
(tests/data/store_v1.sqlite, written by harness at commit 470cf48 with two fake-backend
runs) upgrades in place without losing a row; a newer store is refused."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from harness.cli.app import app
from harness.stats.ratings import human_item_scores
from harness.store.migrations import MIGRATIONS, SCHEMA_VERSION
from harness.store.tables import Store, StoreError
from harness.summarize.build import build_summary

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
    from harness.store.migrations import migrate

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


V3 = ROOT / "tests" / "data" / "store_v3.sqlite"  # tests/data/make_store_v3.py made it
READ_ONLY = (["runs"], ["report", "latest", "--format", "md"], ["compare", "latest"],
             ["baseline", "latest", "-o", "b.json"], ["export", "latest"])


def v0_store(path):
    """A store of the release before per-input set scores: store_v1 without
    ``input_scores``, its runs' set-level values pooled per cell in ``cell_scores`` (as
    that release stored them)."""
    shutil.copy(V1, path)
    con = sqlite3.connect(path)
    with con:
        con.execute("INSERT INTO cell_scores SELECT run_id, cell, metric, AVG(value) FROM"
                    " input_scores GROUP BY run_id, cell, metric")
        con.execute("DROP TABLE input_scores")
    con.close()
    return path


@pytest.mark.parametrize("make", ["v0", "v1", "v3"])
def test_read_only_commands_open_every_earlier_release_unchanged(tmp_path, monkeypatch, make):
    """`report`, `compare`, `baseline`, `runs` and `export` read a store of each earlier
    release as it is: exit 0, never 'damaged', and the file is not changed (no migration
    from a read-only command)."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "s.sqlite"
    if make == "v0":
        v0_store(path)
    else:
        shutil.copy(V1 if make == "v1" else V3, path)
    before = path.read_bytes()
    for args in READ_ONLY:
        res = CliRunner().invoke(app, [*args, "--store", str(path)])
        assert res.exit_code == 0, (args, res.output)
        assert "damaged" not in res.output
    assert path.read_bytes() == before
    assert "baseline of run" in res.output or (tmp_path / "b.json").exists()


def test_a_v3_store_migrates_in_place_and_its_cached_rerun_shows_the_ratings(tmp_path):
    """store_v3 (harness 26b37e3): ratings were exported from the first run; the second
    run is a cached rerun of the same texts. Ratings belong to the texts, so both runs show
    them: read-only (not migrated) and after the read-write open migrated it (m004), with
    every row kept."""
    path = tmp_path / "s.sqlite"
    shutil.copy(V3, path)
    tables = (*TABLES, "rating_sheets", "rating_items", "human_ratings")
    with sqlite3.connect(path) as con:
        before = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
        (exported_from,) = {r for (r,) in con.execute("SELECT run_id FROM rating_sheets")}
        run_ids = [r for (r,) in con.execute("SELECT id FROM runs ORDER BY started_at")]
    assert run_ids[0] == exported_from and before["human_ratings"] == 36
    for readonly in (True, False):
        store = Store(path, readonly=readonly)
        humans = [build_summary(store, r, samples=False)["human"] for r in run_ids]
        assert humans[0] == humans[1] and humans[1]["n_ratings"] == 36
        assert humans[1]["rating"]["n_samples"] == 12
        assert human_item_scores(store, run_ids[1]) == human_item_scores(store, run_ids[0])
        store.close()
    with sqlite3.connect(path) as con:
        after = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
        applied = [n for (n,) in con.execute("SELECT name FROM _migrations")]
    assert after == before and "m004_ratings_by_text" in applied


def test_two_processes_migrate_an_old_store_once(tmp_path):
    """Each migration is one transaction that takes the write lock before reading what is
    applied, so two processes opening an old store at the same moment both succeed and
    every migration is applied once."""
    path = tmp_path / "s.sqlite"
    shutil.copy(V1, path)
    code = ("import sys, time\nfrom harness.store.tables import Store\n"
            "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
            "Store(sys.argv[1]).close()\n")
    start = str(time.time() + 2.0)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), start],
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errs
    with sqlite3.connect(path) as con:
        applied = [n for (n,) in con.execute("SELECT name FROM _migrations")]
    assert sorted(applied) == sorted(fn.__name__ for fn in MIGRATIONS)
    assert counts(path) == counts(V1)


def test_a_failing_migration_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    """One transaction per migration: a migration that fails midway changes nothing of
    its own, and the next open applies it."""
    import harness.store.migrations as mig

    path = tmp_path / "s.sqlite"
    shutil.copy(V1, path)

    def broken(db):
        db.execute("CREATE INDEX half_done ON runs (model)")
        raise sqlite3.OperationalError("disk I/O error")

    broken.__name__ = "m004_ratings_by_text"
    monkeypatch.setattr(mig, "MIGRATIONS", [*MIGRATIONS[:3], broken])
    with pytest.raises(StoreError, match="disk I/O error"):
        Store(path)
    with sqlite3.connect(path) as con:
        applied = [n for (n,) in con.execute("SELECT name FROM _migrations")]
        assert not con.execute("SELECT 1 FROM sqlite_master WHERE name='half_done'").fetchone()
    assert applied == [fn.__name__ for fn in MIGRATIONS[:3]]
    monkeypatch.undo()
    Store(path).close()
    assert migrations_after_reopen(path) == []


@pytest.mark.parametrize("old", [V1, V3])
def test_an_old_store_migrates_and_keeps_a_run_summary(tmp_path, old):
    """m005 adds ``summaries`` to a store of an earlier release; a summary put is read back
    exactly, a second put replaces it, and a run without one reads as None."""
    path = tmp_path / "s.sqlite"
    shutil.copy(old, path)
    store = Store(path)
    assert "m005_run_summaries" in [n for (n,) in store.db.execute(
        "SELECT name FROM _migrations")]
    run_id = store.runs()[0].id
    assert store.get_summary(run_id) is None
    store.put_summary(run_id, '{"cells": [], "note": "é"}')
    store.put_summary(run_id, '{"cells": [1]}')
    store.close()
    reopened = Store(path, readonly=True)
    assert reopened.get_summary(run_id) == '{"cells": [1]}'
    assert reopened.get_summary("no-such-run") is None
    version, created = reopened.db.execute(
        "SELECT harness_version, created FROM summaries WHERE run_id=?", (run_id,)).fetchone()
    from harness import __version__

    assert version == __version__ and created.endswith("Z") and created[:2] == "20"
    reopened.close()


def test_a_read_only_open_of_an_older_store_has_no_summaries(tmp_path):
    path = tmp_path / "s.sqlite"
    shutil.copy(V3, path)
    store = Store(path, readonly=True)
    assert store.get_summary(store.runs()[0].id) is None
    store.close()
