"""The CI gate catches a real regression on the real model, and passes an unchanged suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.model

SUITE = """\
name: gate
model: smollm2-135m
backend: hf
seed: 11
samples: 3
defaults: {{max_tokens: 40, temperature: 0.8}}
prompts:
  - id: poem
    template: "{template}"
inputs:
  - {{id: spring, topic: spring}}
  - {{id: sea, topic: the sea}}
metrics: [distinct_1, distinct_2, self_bleu, perplexity, mean_length]
checks:
  - {{metric: self_bleu, max_increase: 0.1}}
plot: {{x: distinct_2, y: perplexity}}
"""
GOOD = "Write a short poem about {{ topic }}."
DEGENERATE = "Repeat the word {{ topic }} forty times, nothing else."


def harness(*args: str, cwd, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=900)


def test_gate_fails_a_degenerate_prompt_and_passes_the_original(tmp_path):
    suite = tmp_path / "gate.yaml"
    suite.write_text(SUITE.format(template=GOOD), encoding="utf-8")
    assert harness("run", str(suite), "--format", "json", cwd=tmp_path).returncode == 0
    made = harness("baseline", "latest", "-o", "base.json", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    baseline = json.loads((tmp_path / "base.json").read_text(encoding="utf-8"))
    assert "samples" not in baseline and baseline["schema_version"] == 1

    same = harness("check", str(suite), "--baseline", "base.json", cwd=tmp_path)
    assert same.returncode == 0, same.stdout + same.stderr

    suite.write_text(SUITE.format(template=DEGENERATE), encoding="utf-8")
    summary_md = tmp_path / "summary.md"
    bad = harness("check", str(suite), "--baseline", "base.json", cwd=tmp_path,
                  env_extra={"GITHUB_STEP_SUMMARY": str(summary_md)})
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "FAIL" in bad.stdout
    text = summary_md.read_text(encoding="utf-8")
    assert "## Checks:" in text and "❌" in text
    # the failure is about diversity getting worse, the thing the change broke
    assert "distinct_2 no worse than baseline" in text or "self_bleu" in text
