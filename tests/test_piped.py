"""What a CI log shows: the CLI with stdout to a file (not a terminal) keeps every run id
and every number whole."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from harness.generate.runner import run_suite
from harness.store.tables import Store
from harness.suite.load import load_suite

from .test_compare import _suite


def piped(tmp_path: Path, *args: str) -> tuple[int, str]:
    """Run the CLI in a subprocess with stdout to a file, as ``harness ... > log`` does."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    log = tmp_path / "log.txt"
    with open(log, "w", encoding="utf-8") as fh:
        proc = subprocess.run([sys.executable, "-m", "harness.cli", *args], stdout=fh,
                              stderr=subprocess.PIPE, text=True, env=env, timeout=300,
                              cwd=tmp_path)
    return proc.returncode, log.read_text(encoding="utf-8")


def numbers_of(summary: dict) -> set[str]:
    """Every cell mean as ``harness run`` prints it (4 significant digits)."""
    out = set()
    for cell in summary["cells"]:
        for m in cell["metrics"].values():
            if isinstance(m, dict) and m.get("mean") is not None:
                out.add(f"{m['mean']:.4g}")
    return out


def test_piped_output_keeps_ids_and_numbers_whole(tmp_path, fake_backend):
    store = Store(tmp_path / "s.sqlite")
    suite = _suite(tmp_path)
    first = run_suite(load_suite(suite), store)
    second = run_suite(load_suite(_suite(tmp_path, seed=8)), store)
    store.close()
    st = ["--store", str(tmp_path / "s.sqlite")]

    code, out = piped(tmp_path, "runs", *st)
    assert code == 0
    assert first.run.id in out and second.run.id in out
    assert "…" not in out

    # every generation is in the store: no model is loaded by this run
    suite.write_text(suite.read_text(encoding="utf-8").replace("seed: 8", "seed: 7"),
                     encoding="utf-8")
    code, out = piped(tmp_path, "run", str(suite), *st, "--reports", str(tmp_path / "r"),
                      "--format", "json")
    assert code == 0, out
    assert "…" not in out
    summary = json.loads((tmp_path / "r" / "cmp-latest.json").read_text(encoding="utf-8"))
    assert summary["run"]["id"] in out
    shown = set(re.findall(r"\d+\.\d+(?:e[-+]\d+)?", out))
    assert numbers_of(summary) & shown, out
    for header in ("distinct_2", "self_bleu", "length_words"):
        assert header in out

    code, out = piped(tmp_path, "compare", first.run.id, second.run.id, *st)
    assert code == 0, out
    assert "…" not in out and first.run.id in out and second.run.id in out

    code, out = piped(tmp_path, "baseline", first.run.id, "-o", str(tmp_path / "b.json"), *st)
    assert code == 0, out
    code, out = piped(tmp_path, "check", str(suite), "--baseline", str(tmp_path / "b.json"),
                      *st, "--reports", str(tmp_path / "r"))
    assert code == 0, out
    assert "…" not in out
    assert "identical to the baseline" in out or "passed" in out


def test_a_cached_rerun_prints_one_scoring_line_and_is_marked_in_runs(tmp_path, fake_backend):
    store = Store(tmp_path / "s.sqlite")
    first = run_suite(load_suite(_suite(tmp_path)), store)
    store.close()
    st = ["--store", str(tmp_path / "s.sqlite")]
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(_suite(tmp_path)),
                           *st, "--reports", str(tmp_path / "r"), "--format", "json"],
                          capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "0 generated" in proc.stdout
    scoring = [line for line in proc.stderr.splitlines() if "scoring" in line]
    assert len(scoring) == 1, proc.stderr
    code, out = piped(tmp_path, "runs", *st)
    assert code == 0
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[1:-1]]
            for line in out.splitlines() if line.startswith("│")}
    rerun = next(r for r in rows if r != first.run.id)
    n = first.run.n_requests
    # columns: run, suite, model, backend, status, generated, from store, started
    assert rows[first.run.id][5:7] == [f"{n}/{n}", "0"]
    assert rows[rerun][5:7] == [f"0/{n}", str(n)]
