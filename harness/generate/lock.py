"""One run of a suite on a store at a time: a second process waits for the first, then
reuses what it generated."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.records import content_key


@contextmanager
def suite_lock(store_path: Path, key: str, log: Callable[[str], None]) -> Iterator[None]:
    """Hold an exclusive lock for ``key`` (a suite on a store) while the block runs; when
    another process holds it, say so and wait. POSIX ``flock`` on a file beside the store
    (``<store>.locks/``, beside the file the path resolves to, so that the same store
    reached through a symlink is the same lock); released by the OS if the process dies.
    Without ``fcntl`` (Windows) there is no lock."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    folder = Path(f"{Path(store_path).resolve()}.locks")
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / (content_key({"key": key})[:16] + ".lock"), "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("another harness process is running this suite on this store; waiting for "
                "it to finish (what it generates is reused here)...")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
