"""Two processes on one store, read-only commands, run ids taken literally."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter

import pytest

from harness.store.tables import Store, StoreError
from tests.backends.fake_server import FakeServer, prompt_id

SUITE = """\
name: conc
model: served-model
backend: openai
server: {{base_url: "{url}", concurrency: 2, timeout: 10}}
samples: 2
prompts: [{{id: p, template: "Say {{{{ topic }}}}."}}]
inputs: [{{id: a, topic: one}}, {{id: b, topic: two}}, {{id: c, topic: three}},
         {{id: d, topic: four}}, {{id: e, topic: five}}, {{id: f, topic: six}}]
metrics: [distinct_2, length_words]
"""


def test_two_runs_of_one_suite_on_one_store_generate_each_request_once(tmp_path):
    def slow(body, attempt):
        time.sleep(0.6)  # 12 requests, 2 at a time: the first run generates for ~4 s
        return ("ok", f"answer to {prompt_id(body)} #{body.get('seed')}")

    srv = FakeServer(slow)
    suite = tmp_path / "conc.yaml"
    suite.write_text(SUITE.format(url=srv.url), encoding="utf-8")
    cmd = [sys.executable, "-m", "harness.cli", "run", str(suite), "--store",
           str(tmp_path / "s.sqlite"), "--reports", str(tmp_path / "r"), "--format", "json"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    try:
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, cwd=tmp_path, env=env)]
        deadline = time.monotonic() + 120
        while not srv.seen and time.monotonic() < deadline:  # the first is generating
            time.sleep(0.05)
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, cwd=tmp_path, env=env))
        outs = [p.communicate(timeout=300) for p in procs]
    finally:
        srv.close()
    assert [p.returncode for p in procs] == [0, 0], outs
    seen = Counter((b["messages"][-1]["content"], b["seed"]) for _, _, b in srv.seen)
    assert len(seen) == 12 and set(seen.values()) == {1}  # 6 inputs × 2 samples, once each
    assert "waiting" in outs[1][1] and "0 generated, 12 from the store" in outs[1][0]


def test_read_only_commands_neither_create_nor_write_the_store(tmp_path):
    missing = tmp_path / "nope.sqlite"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "runs", "--store", str(missing)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "no store at" in proc.stderr and not missing.exists()
    store = Store(tmp_path / "s.sqlite")
    store.close()
    ro = Store(tmp_path / "s.sqlite", readonly=True)
    assert ro.runs() == []
    import sqlite3

    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        ro.db.execute("DELETE FROM runs")


def test_run_ids_are_matched_literally(tmp_path, tiny_suite, fake_backend):
    from harness.generate.runner import run_suite
    from harness.suite.load import load_suite

    store = Store(tmp_path / "s.sqlite")
    run = run_suite(load_suite(tiny_suite), store).run
    assert store.run(run.id[:10]).id == run.id  # a prefix still works
    for bad in ("", "%", "_", " "):
        with pytest.raises(StoreError, match="no run"):
            store.run(bad)


def test_unwritable_reports_dir_and_damaged_stores_are_clear_errors(tmp_path, tiny_suite,
                                                                    fake_backend):
    from typer.testing import CliRunner

    from harness.cli.app import app

    runner = CliRunner()
    store = tmp_path / "s.sqlite"
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the reports folder should be", encoding="utf-8")
    res = runner.invoke(app, ["run", str(tiny_suite), "--store", str(store), "--reports",
                              str(blocker)])
    assert res.exit_code == 2 and "cannot write the reports" in res.output
    assert "harness report" in res.output and Store(store).runs()[0].status == "done"

    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all " * 100)
    res = runner.invoke(app, ["runs", "--store", str(junk)])
    assert res.exit_code == 2 and "junk.sqlite" in res.output
    assert not isinstance(res.exception, Exception) or isinstance(res.exception, SystemExit)

    damaged = tmp_path / "damaged.sqlite"
    data = bytearray(store.read_bytes())
    for i in range(4096, len(data), 7):  # scribble over every page after the first
        data[i] = 0xA5
    damaged.write_bytes(bytes(data))
    res = runner.invoke(app, ["report", "latest", "--store", str(damaged)])
    assert res.exit_code == 2, res.output
    assert "damaged" in res.output or "malformed" in res.output or "cannot read" in res.output
    assert isinstance(res.exception, SystemExit)


@pytest.mark.parametrize("alias", ["file", "folder"])
def test_the_store_lock_is_keyed_by_the_resolved_file(tmp_path, alias):
    """The same store reached through a symlink (to the file, or to its folder) and
    through its real path is one lock: the second holder waits and says so."""
    import threading

    from harness.generate.runner import suite_lock

    real = tmp_path / "data" / "s.sqlite"
    real.parent.mkdir()
    Store(real).close()
    if alias == "file":
        other = tmp_path / "link.sqlite"
        other.symlink_to(real)
    else:
        (tmp_path / "alias").symlink_to(real.parent, target_is_directory=True)
        other = tmp_path / "alias" / "s.sqlite"
    said: list[str] = []
    entered = threading.Event()

    def second() -> None:
        with suite_lock(other, "suite|model|hf", said.append):
            entered.set()

    with suite_lock(real, "suite|model|hf", lambda m: None):
        thread = threading.Thread(target=second)
        thread.start()
        deadline = time.monotonic() + 60
        while not said and time.monotonic() < deadline:
            time.sleep(0.02)
        assert said and "waiting" in said[0]
        assert not entered.is_set()
    thread.join(timeout=60)
    assert entered.is_set()
    assert not (tmp_path / "link.sqlite.locks").exists()  # one lock folder: the real file's


def test_judge_calls_come_back_as_records_read_by_name(tmp_path):
    """``judgments`` rows are ``Judgment`` records: a pairwise judge's calls come back by
    judge, in (item, other, repeat, swapped) order, with the value None when unreadable;
    a rubric judge's calls (no other key) are not pairwise verdicts."""
    from harness.store.tables import Judgment

    store = Store(tmp_path / "s.sqlite")
    pair = [Judgment("k2", "k1", 0, 1, "r4", None), Judgment("k1", "k2", 0, 0, "r3", 1.0),
            Judgment("k1", "k2", 0, 1, "r5", 0.5)]
    store.save_judgments("run-1", "pref", pair)
    store.save_judgments("run-1", "rubric", [Judgment("k1", "", 0, 0, "r1", 4.0)])
    store.save_judgments("run-2", "pref", [Judgment("k9", "k8", 0, 0, "r9", 0.0)])
    verdicts = store.pairwise_verdicts("run-1")
    assert list(verdicts) == ["pref"]
    assert verdicts["pref"] == sorted(pair, key=lambda j: (j.item_key, j.other_key,
                                                           j.repeat, j.swapped))
    first = verdicts["pref"][0]
    assert isinstance(first, Judgment) and (first.request_key, first.value) == ("r3", 1.0)
    assert verdicts["pref"][-1].value is None
    store.save_judgments("run-1", "pref", pair[:1])  # a judge's rows of a run are replaced
    assert store.pairwise_verdicts("run-1")["pref"] == pair[:1]
    assert [r["value"] for r in store.judgments("run-1")["rubric"]] == [4.0]
    store.close()
