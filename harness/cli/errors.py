"""How the ``harness`` command ends: the exit codes, and the one place that turns an
exception into an ``error:`` line and a code.

Bad input is one family, ``harness.errors.InputError`` (suite, store, report, gate,
rating, model and plugin errors are its subclasses), plus the OS errors of a path the user
gave: exit 2. Nothing else is bad input: a ``KeyError`` or ``ValueError`` from a bug is an
internal error (exit 4) shown with its traceback, never blamed on the user.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import click
import typer

from harness.cli.terminal import err, error
from harness.text import plain

EXIT_CHECKS, EXIT_INPUT, EXIT_RUN, EXIT_INTERNAL, EXIT_INTERRUPTED = 1, 2, 3, 4, 130

# a path the user gave that is missing, a directory, or not allowed
PATH_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)


class Exit(Exception):
    """A CLI-level refusal (a bad flag value): its message and exit code."""

    def __init__(self, message: str, code: int = EXIT_INPUT):
        super().__init__(message)
        self.code = code


@contextmanager
def errors() -> Iterator[None]:
    """Turn library errors into one red line and the documented exit code; anything else
    is an internal error (exit 4) shown with its traceback."""
    from harness.plugins import PluginError

    try:  # every command loads the metric plugins first, so a broken one is named (exit 2)
        import harness.metrics  # noqa: F401 - before the command reads any of its input
        from harness.backends.base import BackendError
        from harness.errors import InputError
    except PluginError as exc:
        error(str(exc))
        raise typer.Exit(EXIT_INPUT) from None

    try:
        yield
    except Exit as exc:
        error(str(exc))
        raise typer.Exit(exc.code) from None
    except (typer.Exit, typer.Abort, click.ClickException):
        raise
    except (InputError, *PATH_ERRORS) as exc:
        if isinstance(exc, OSError) and exc.filename and exc.strerror:
            error(f"{exc.filename}: {exc.strerror[:1].lower()}{exc.strerror[1:]}")
        else:
            error(str(exc))
        raise typer.Exit(EXIT_INPUT) from None
    except BackendError as exc:
        error(str(exc))
        err.print("Everything generated so far is stored; run again to resume.")
        raise typer.Exit(EXIT_RUN) from None
    except sqlite3.Error as exc:  # raised past the store's own checks, mid-run
        raise typer.Exit(_sql_error(exc)) from None
    except KeyboardInterrupt:
        err.print("interrupted; everything generated so far is stored: run again to resume",
                  markup=False, highlight=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Exception as exc:  # noqa: BLE001 - a bug: reported as one, never as exit 1 or 2
        internal_error(exc)
        raise typer.Exit(EXIT_INTERNAL) from None


def _sql_error(exc: sqlite3.Error) -> int:
    """Say what a SQLite error means and return the exit code: a full disk stops the run
    (3), SQL the code got wrong is a bug (4), anything else is a damaged store (2)."""
    if "full" in str(exc):
        error(f"the disk is full ({exc}); what was generated is stored: free space "
              "and run again to resume")
        return EXIT_RUN
    if _sql_bug(exc):
        internal_error(exc)
        return EXIT_INTERNAL
    error(f"the store is damaged or not a harness store ({exc}); `sqlite3 STORE "
          "'.recover'` can save what is readable")
    return EXIT_INPUT


def _sql_bug(exc: sqlite3.Error) -> bool:
    """SQL the code got wrong (a bug), rather than a store that is damaged, locked,
    read-only or not a harness store (a missing table or column can be any SQLite file)."""
    return (isinstance(exc, sqlite3.ProgrammingError | sqlite3.InterfaceError)
            or "syntax error" in str(exc))


def internal_error(exc: BaseException) -> None:
    """Print ``exc`` with its traceback (scrubbed, control characters made inert) and a
    request for a bug report (the caller exits 4)."""
    import traceback

    err.print(plain("".join(traceback.format_exception(exc)).rstrip()), markup=False,
              highlight=False)
    error(f"internal error ({type(exc).__name__}): this is a bug in harness, not a problem "
          "with your input; please report it with the traceback above and the command "
          "you ran. Everything already stored is kept.")
