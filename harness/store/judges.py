"""The ``judgments`` table: one row per judge call of a run: the judged item's request key,
the other item's key for a pairwise judge (empty otherwise), the repeat, whether the pair
was shown swapped (``other_key`` first), the call's own request key in ``generations`` (its
prompt, answer and tokens), and the parsed value (NULL when the answer could not be read:
never a silent 0). A row is a ``Judgment``, read by field name, never by position.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any, NamedTuple


class Judgment(NamedTuple):
    """One judge call of a run, as ``judgments`` holds it (without the run and judge)."""

    item_key: str
    """The judged text's request key (for a pairwise judge, the text ``value`` is about)."""
    other_key: str
    """The other text's request key for a pairwise judge; empty otherwise."""
    repeat: int
    """Which repeat of the same question (0, 1, ...)."""
    swapped: int
    """1 when the pair was shown with ``other_key`` first, else 0."""
    request_key: str
    """The judge call's own request key in ``generations``."""
    value: float | None
    """The parsed verdict (a pairwise outcome for ``item_key``: 1, 0 or 0.5); None when the
    answer could not be read."""


class JudgeTables:
    """``Store``'s judge calls."""

    db: sqlite3.Connection  # set by ``Store``, which this class is part of

    def save_judgments(self, run_id: str, judge: str, rows: Iterable[Judgment]) -> None:
        """Record a judge's calls in a run, replacing the judge's earlier rows of the run."""
        with self.db:
            self.db.execute("DELETE FROM judgments WHERE run_id=? AND judge=?", (run_id, judge))
            self.db.executemany(
                "INSERT OR REPLACE INTO judgments (run_id, judge, item_key, other_key, repeat,"
                " swapped, request_key, value) VALUES (?,?,?,?,?,?,?,?)",
                [(run_id, judge, *row) for row in rows])

    def judgments(self, run_id: str) -> dict[str, list[dict[str, Any]]]:
        """{judge: [{item_key, other_key, repeat, swapped, request_key, value, answer,
        prompt_tokens, completion_tokens}]} of a run (empty for runs without judges, and
        for stores made before judges existed)."""
        cols = ["item_key", "other_key", "repeat", "swapped", "request_key", "value",
                "answer", "prompt_tokens", "completion_tokens"]
        out: dict[str, list[dict[str, Any]]] = {}
        for judge, *row in self.db.execute(
                "SELECT j.judge, j.item_key, j.other_key, j.repeat, j.swapped, j.request_key,"
                " j.value, g.text, g.prompt_tokens, g.completion_tokens FROM judgments j"
                " LEFT JOIN generations g ON g.key=j.request_key WHERE j.run_id=?"
                " ORDER BY j.judge, j.rowid", (run_id,)):
            out.setdefault(judge, []).append(dict(zip(cols, row, strict=True)))
        return out

    def pairwise_verdicts(self, run_id: str) -> dict[str, list[Judgment]]:
        """A run's pairwise judge calls by judge (``Judgment.value``: the outcome for
        ``item_key``), in the order (judge, item key, other key, repeat, swapped)."""
        out: dict[str, list[Judgment]] = {}
        for judge, *row in self.db.execute(
                "SELECT judge, item_key, other_key, repeat, swapped, request_key, value FROM"
                " judgments WHERE run_id=? AND other_key!='' ORDER BY judge, item_key,"
                " other_key, repeat, swapped", (run_id,)):
            out.setdefault(judge, []).append(Judgment(*row))
        return out
