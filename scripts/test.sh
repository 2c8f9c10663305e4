#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine, then runs the whole test suite.
# This is the README's test command and what CI (.ci/run) calls.
set -euo pipefail
cd "$(dirname "$0")/.."

# Headless Chromium for the HTML report test, and CJK fonts so Chinese renders.
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
    || echo "warning: could not install chromium; the browser test will be skipped"
fi

python3 -m venv .venv
# torch 2.13.0 first: the CPU build (other torch requests may pull a multi-GB CUDA build).
.venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q -e '.[test]'

export HF_HUB_OFFLINE=1
set +e
.venv/bin/python -m pytest -q "$@"
code=$?
set -e
if [ "$code" = 5 ]; then echo "no tests collected"; exit 1; fi
exit "$code"
