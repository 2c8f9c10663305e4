"""Plugins through entry points: examples/plugin installed into a scratch directory adds
a metric and a backend that a suite uses; a broken plugin is named, exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

SUITE = """\
name: plug
backend: echo
samples: 2
prompts: [{id: p, template: "Say hi to {{ topic }}"}]
inputs: [{topic: rain}, {topic: the sea}, {topic: bread}]
metrics: [exclamation_rate, distinct_2, length_words]
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """examples/plugin installed with pip into a directory put on PYTHONPATH."""
    target = tmp_path_factory.mktemp("site")
    got = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                          "--no-build-isolation", "--target", str(target),
                          str(ROOT / "examples" / "plugin")],
                         capture_output=True, text=True, timeout=600)
    if got.returncode != 0 and "setuptools" in got.stderr:
        pytest.skip(f"no setuptools to build the example plugin offline: {got.stderr[-300:]}")
    assert got.returncode == 0, got.stderr[-2000:]
    return target


def harness(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def test_a_plugin_adds_a_metric_and_a_backend(site, tmp_path):
    (tmp_path / "plug.yaml").write_text(SUITE, encoding="utf-8")
    listed = harness(site, tmp_path, "metrics")
    assert listed.returncode == 0 and "exclamation_rate" in listed.stdout
    got = harness(site, tmp_path, "run", "plug.yaml", "--format", "json")
    assert got.returncode == 0, got.stderr
    assert "6 generated" in got.stdout and "on echo" in got.stderr
    report = json.loads((tmp_path / "reports" / "plug-latest.json").read_text("utf-8"))
    values = {c["cell"]: c["metrics"]["exclamation_rate"]["mean"] for c in report["cells"]}
    # "SAY HI TO RAIN! (sample 0)": 1 mark, 6 words; "... THE SEA! ...": 1 in 7; bread 1 in 6
    assert values == {"p": pytest.approx((1 / 6 + 1 / 7 + 1 / 6) / 3)}


def test_without_the_plugin_its_backend_is_an_unknown_name(tmp_path):
    (tmp_path / "plug.yaml").write_text(SUITE, encoding="utf-8")
    got = subprocess.run([sys.executable, "-m", "harness.cli", "validate", "plug.yaml"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert got.returncode == 2
    assert "unknown backend 'echo'" in got.stderr and "Traceback" not in got.stderr


def test_a_broken_plugin_is_named_with_exit_2(tmp_path):
    dist = tmp_path / "site" / "broken_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\n"
                                   "Version: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[harness.metrics]\nbroken = broken_mod\n",
                                           encoding="utf-8")
    (tmp_path / "site" / "broken_mod.py").write_text("raise ImportError('needs numpy 9')\n",
                                                     encoding="utf-8")
    got = harness(tmp_path / "site", tmp_path, "metrics")
    assert got.returncode == 2, got.stderr
    assert "plugin 'broken'" in got.stderr and "needs numpy 9" in got.stderr
    assert "Traceback" not in got.stderr


def test_an_in_tree_backend_is_its_module_and_one_registry_line(tmp_path, monkeypatch):
    """docs/extending.md: a backend added to ``FACTORIES`` (the one line besides its own
    module) is accepted by suites, the CLI and the runner with no other change."""
    from harness.backends import FACTORIES
    from harness.runner import run_suite
    from harness.store import Store
    from harness.suite import load_suite
    from tests.conftest import FakeBackend

    made = []

    def mine(model, **options):
        made.append(model)
        return FakeBackend()

    monkeypatch.setitem(FACTORIES, "mine", mine)
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nbackend: mine\nmodel: m1\nsamples: 2\nmetrics: [distinct_1]\n"
                    "prompts: [{id: p, template: 'About {{ topic }}'}]\n"
                    "inputs: [{topic: rain}, {topic: snow}]\n", encoding="utf-8")
    result = run_suite(load_suite(path), Store(tmp_path / "s.sqlite"))
    assert made == ["m1"] and result.generated == 4 and result.run.backend == "mine"
