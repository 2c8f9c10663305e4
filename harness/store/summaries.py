"""The ``summaries`` table: a run's summary, built once when the run ends and kept
(``harness.summarize.stored``), so a stored run's numbers do not depend on the code that
later renders them.
"""

from __future__ import annotations

import sqlite3
import time


class SummaryTables:
    """``Store``'s kept run summaries (JSON text)."""

    db: sqlite3.Connection  # set by ``Store``, which this class is part of

    def put_summary(self, run_id: str, summary_json: str) -> None:
        """Keep ``summary_json`` as the run's summary (replacing an earlier one), with the
        harness version that built it and the time (ISO 8601, UTC)."""
        from harness import __version__

        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO summaries (run_id, harness_version,"
                            " summary, created) VALUES (?,?,?,?)",
                            (run_id, __version__, summary_json, created))

    def get_summary(self, run_id: str) -> str | None:
        """The run's kept summary JSON, or None when none was kept (a run of an earlier
        release, or one that has not ended)."""
        row = self.db.execute("SELECT summary FROM summaries WHERE run_id=?",
                              (run_id,)).fetchone()
        return row[0] if row else None
