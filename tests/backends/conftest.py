"""Fixtures for backend tests: the embedded model's path and a real ``vllm serve``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def model_path() -> str:
    """Return the directory of the embedded model (converted once into the cache)."""
    from harness.backends.models import resolve

    return resolve("smollm2-135m")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def vllm_server(model_path: str, tmp_path_factory) -> str:
    """Start ``vllm serve`` on 127.0.0.1 for the session; return its ``/v1`` base URL."""
    pytest.importorskip("vllm")
    import httpx

    port = free_port()
    log = Path(tmp_path_factory.mktemp("vllm-serve")) / "server.log"
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "2")}
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", model_path,
           "--served-model-name", "smollm2", "--host", "127.0.0.1", "--port", str(port),
           "--dtype", "float32", "--enable-prefix-caching", "--seed", "0",
           # eager: skips torch.compile's warm-up, minutes on a busy 2-core machine
           "--enforce-eager",
           # seeded requests crash vLLM-CPU's chunked prefill (see harness/backends/vllm.py)
           "--no-enable-chunked-prefill"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            if proc.poll() is not None:
                pytest.fail(f"vllm serve exited with {proc.returncode}:\n"
                            + log.read_text()[-3000:])
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("vllm serve not healthy after 600 s:\n" + log.read_text()[-3000:])
            time.sleep(2)
        yield url + "/v1"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
