"""A suite served by an OpenAI-compatible server with perplexity among its metrics is
refused before any generation when its scorer cannot be loaded here (the served model's
name is not a local model), and runs once the suite names a scorer that can."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.backends.models import loadable_offline
from tests.backends.fake_server import FakeServer, completion, prompt_id

SUITE = """\
name: served
model: org/served-model
backend: openai
server: {{base_url: "{url}", max_retries: 1, timeout: 10}}
samples: 2
prompts: [{{id: p, template: "Say {{{{ topic }}}}."}}]
inputs: [{{id: a, topic: one}}, {{id: b, topic: two}}]
{extra}
"""


@pytest.fixture()
def server():
    srv = FakeServer(lambda body, attempt: ("json", completion(body, f"hi {prompt_id(body)}")))
    yield srv
    srv.close()


def _run(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "harness.cli", "run", "s.yaml", "--format",
                           "json"], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=300)


def test_default_metrics_on_a_served_model_fail_before_generating(tmp_path, server):
    proc = _run(tmp_path, SUITE.format(url=server.url, extra=""))
    shown = proc.stdout + proc.stderr
    assert proc.returncode == 2, shown
    assert "Traceback" not in proc.stderr, shown
    assert "'org/served-model'" in shown and "scorer: smollm2-135m" in shown, shown
    assert not server.seen, "the run generated before refusing its scorer"


def test_a_scorer_that_loads_here_passes_the_check(tmp_path, server):
    # metrics without perplexity need no scorer: the same suite runs
    proc = _run(tmp_path, SUITE.format(url=server.url, extra="metrics: [distinct_2]"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(server.seen) == 4


def test_loadable_offline() -> None:
    assert loadable_offline("smollm2-135m")
    assert not loadable_offline("org/surely-not-cached-model-xyz")
    assert not loadable_offline("/no/such/dir")


def test_validate_says_it_too(tmp_path, server):
    (tmp_path / "s.yaml").write_text(SUITE.format(url=server.url, extra=""), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "validate", "s.yaml"],
                          capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "scorer: smollm2-135m" in proc.stderr
