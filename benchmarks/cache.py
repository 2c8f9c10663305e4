"""Cold vs cached run of a suite, side by side in one invocation.

    python benchmarks/cache.py [suites/poetry.yaml]

Runs ``harness run`` twice on a fresh temporary store (the model conversion cache in
``~/.cache/harness`` is warmed first, so the cold run measures generation and scoring, not
the one-time GGUF conversion) and prints both wall times and their ratio. Target: the
cached run takes under 10% of the cold one and loads no model.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed_run(suite: str, store: Path, reports: Path) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", suite, "--store",
                           str(store), "--reports", str(reports)], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"harness run failed:\n{proc.stderr}")
    return elapsed, proc.stdout + proc.stderr


def main() -> None:
    suite = sys.argv[1] if len(sys.argv) > 1 else "suites/poetry.yaml"
    from harness.backends.models import DEFAULT_MODEL, resolve

    resolve(DEFAULT_MODEL, print)  # one-time conversion, not part of the measurement
    with tempfile.TemporaryDirectory() as tmp:
        store, reports = Path(tmp) / "bench.sqlite", Path(tmp) / "reports"
        cold, _ = timed_run(suite, store, reports)
        cached, log = timed_run(suite, store, reports)
    loaded = "loading " in log
    print(f"suite            {suite}")
    print(f"cold run         {cold:8.1f} s")
    print(f"cached run       {cached:8.1f} s   (model loaded: {'yes' if loaded else 'no'})")
    print(f"cached / cold    {cached / cold:8.3f}   (target < 0.10)")


if __name__ == "__main__":
    main()
