"""The library's own error for bad input: what the user gave (a file, a field, a name, an
installed plugin) is wrong, and the message says which and why.

Bad input is one family: every error of the library that means it subclasses
``InputError`` (``SuiteError``, ``StoreError``, ``ReportError``, ``GateError``,
``RatingError``, ``ModelError``, ``MetricError``, ``MissingResourceError``,
``BackendConfigError``, ``PluginError``, and ``UnknownName`` and ``BadValue`` below). The
CLI maps that family (and the OS errors of a path the user gave) to exit 2 and nothing
else; any other exception is a bug in harness, shown with its traceback as an internal
error (exit 4). So a ``KeyError`` from a lookup that went wrong in the code is never
reported as the user's fault, while ``except KeyError`` still catches an unknown name.
"""

from __future__ import annotations


class InputError(Exception):
    """Bad input; the message names the file (and line), field, item or name."""


class UnknownName(InputError, KeyError):
    """A name that is not defined (a metric, a variant, a grid point); also a ``KeyError``
    for callers that look names up. Its message reads as given, not quoted as a
    ``KeyError``'s would be."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class BadValue(InputError, ValueError):
    """A value of the wrong kind or out of range (a set-level metric where a per-sample one
    is needed, a malformed line of a corpus); also a ``ValueError``."""
