"""Options several commands share, and the checks of a flag's value that the command line
makes before calling the library (so the message names the flag, as typed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from harness.api import DEFAULT_STORE
from harness.cli.errors import Exit

if TYPE_CHECKING:
    from harness.store.tables import Store

StoreOpt = typer.Option(DEFAULT_STORE, "--store", help="SQLite store of runs and generations.")
AllowPathOpt = typer.Option([], "--allow-path", metavar="DIR",
                            help="Let the suite read files under DIR too (default: only under "
                                 "its own folder).")
AllowEnvOpt = typer.Option([], "--allow-env", metavar="NAME",
                           help="Let server.api_key_env name NAME although it does not look "
                                "like a key variable.")


def at_least_one(**flags: int | None) -> None:
    """A count flag below 1 is one ``error:`` line naming the flag (exit 2), not click's
    usage box, and not "everything" for 0."""
    what = {"limit": " (the number of inputs to run)"}
    for name, value in flags.items():
        if value is not None and value < 1:
            flag = "--" + name.replace("_", "-")
            raise Exit(f"{flag} must be at least 1{what.get(name, '')}, not {value}")


def open_store(path: Path, readonly: bool = False) -> Store:
    from harness.store.tables import Store

    return Store(path, readonly=readonly)
