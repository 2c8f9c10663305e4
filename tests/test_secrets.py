"""An API key never reaches stdout, stderr, the store or the reports: keys with a
newline, non-ASCII characters and spaces, a server that echoes the key in its error, and a
successful run; nor does a password in a server URL (``http://user:password@host``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.secrets import register_secret, scrub
from tests.backends.fake_server import FakeServer, prompt_id

MARK = "S3CR3T-9f2c"
SUITE = """\
name: sec
model: served-model
backend: openai
server: {{base_url: "{url}", api_key_env: MY_SERVER_KEY, max_retries: 1, timeout: 5}}
samples: 2
prompts: [{{id: p, template: "Say {{{{ topic }}}}."}}]
inputs: [{{id: a, topic: hi}}, {{id: b, topic: yo}}, {{id: c, topic: ok}}]
metrics: [distinct_2, length_words]
checks: ["length_words >= 0"]
"""


def _everything(tmp: Path, proc: subprocess.CompletedProcess) -> str:
    """stdout, stderr and the bytes of every file the run wrote (store, WAL, reports)."""
    blobs = [proc.stdout, proc.stderr]
    for f in tmp.rglob("*"):
        if f.is_file() and f.suffix != ".yaml":
            blobs.append(f.read_bytes().decode("utf-8", "replace"))
    return "\n".join(blobs)


def _run(tmp: Path, url: str, key: str, *cmd: str) -> subprocess.CompletedProcess:
    suite = tmp / "sec.yaml"
    suite.write_text(SUITE.format(url=url), encoding="utf-8")
    env = {**os.environ, "MY_SERVER_KEY": key, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "harness.cli", *cmd, str(suite), "--store",
                           str(tmp / "s.sqlite"), "--reports", str(tmp / "reports")],
                          capture_output=True, text=True, cwd=tmp, env=env, timeout=300)


@pytest.mark.parametrize("key, code, says", [
    # stripped and sent; the server echoes it back in a 401: a refusal, so exit 2 (a rerun
    # would be refused again), and the failure is stored
    (f"sk-{MARK}\n", 2, "401"),
    (f"sk-ünï-{MARK}", 2, "non-ASCII"),
    (f"sk {MARK} with spaces", 2, "a space"),
    (f"\tsk-{MARK}-ü\n", 2, "non-ASCII"),
])
def test_bad_or_rejected_keys_never_leak(tmp_path, key, code, says):
    def echo_key_back(body, attempt):
        return ("status", 401, {}, f"invalid key: Bearer sk-{MARK} (got sk-{MARK})")

    srv = FakeServer(echo_key_back)
    try:
        proc = _run(tmp_path, srv.url, key, "run")
    finally:
        srv.close()
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert says in proc.stderr
    assert "Traceback" not in proc.stderr
    text = _everything(tmp_path, proc)
    assert MARK not in text and "9f2c" not in text
    if "401" in says:  # the failure is stored, scrubbed
        import sqlite3

        db = sqlite3.connect(tmp_path / "s.sqlite")
        (error,) = db.execute("SELECT error FROM runs").fetchone()
        assert "***" in error and MARK not in error


def test_a_good_key_is_sent_but_never_stored(tmp_path):
    def ok(body, attempt):
        return ("ok", "answer to " + prompt_id(body))

    srv = FakeServer(ok)
    try:
        proc = _run(tmp_path, srv.url, f"  sk-{MARK}\n", "check")
    finally:
        srv.close()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {h["authorization"] for _, h, _ in srv.seen} == {f"Bearer sk-{MARK}"}
    assert MARK not in _everything(tmp_path, proc)


def test_scrub_masks_every_form():
    register_secret(f"pk-ünï-{MARK}x\n")
    msg = (f"Illegal header value b'Bearer pk-\\xc3\\xbcn\\xc3\\xaf-{MARK}x\\n' / "
           f"pk-\\xfcn\\xef-{MARK}x / pk-ünï-{MARK}x / Authorization: Bearer abc.def")
    out = scrub(msg)
    assert MARK not in out and "abc.def" not in out and out.count("***") >= 3
    assert scrub("a plain message") == "a plain message"


PASSWORD = "pw-S3CR3T-77ab"
CRED_SUITE = """\
name: cred
model: served-model
backend: openai
server: {{base_url: "{url}", max_retries: 0, timeout: 5}}
samples: 1
prompts: [{{id: p, template: "Say {{{{ topic }}}}."}}]
inputs: [{{id: a, topic: hi}}, {{id: b, topic: yo}}]
metrics: [length_words]
{judges}"""


def _with_credentials(url: str) -> str:
    return url.replace("http://", f"http://admin:{PASSWORD}@")


@pytest.mark.parametrize("where", ["server", "judge"])
def test_a_password_in_a_server_url_never_leaks(tmp_path, where):
    """``http://user:password@host`` in a suite's (or a judge's) server URL: the request
    fails (nothing listens there), and the URL in the error, on stderr and in the store's
    ``runs.error``, shows ``***`` for the credentials."""
    def ok(body, attempt):
        return ("ok", "answer to " + prompt_id(body))

    srv = FakeServer(ok)
    dead = _with_credentials("http://127.0.0.1:1/v1")  # connection refused
    try:
        judges = "" if where == "server" else (
            f'judges:\n  - {{name: j, server: {{base_url: "{dead}", max_retries: 0, '
            'timeout: 5}}\n')
        url = dead if where == "server" else _with_credentials(srv.url)
        (tmp_path / "c.yaml").write_text(CRED_SUITE.format(url=url, judges=judges),
                                         encoding="utf-8")
        proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "c.yaml"],
                              capture_output=True, text=True, cwd=tmp_path,
                              env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300)
    finally:
        srv.close()
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "http://***@127.0.0.1:1/v1" in proc.stderr
    assert PASSWORD not in _everything(tmp_path, proc)
    import sqlite3

    db = sqlite3.connect(tmp_path / "results" / "harness.sqlite")
    (error,) = db.execute("SELECT error FROM runs").fetchone()
    assert "http://***@127.0.0.1:1/v1" in error and PASSWORD not in error


def test_scrub_masks_url_credentials():
    assert scrub("GET http://admin:pw@host:8000/v1 failed") == "GET http://***@host:8000/v1 failed"
    # a password with an @ is masked whole; the host and path stay
    assert scrub("'https://u:p@ss@h/v1/chat'") == "'https://***@h/v1/chat'"
    # no userinfo: nothing to mask
    for text in ("http://host/a@b", "mail a@b.c", "http://host/v1?user=x@y"):
        assert scrub(text) == text
