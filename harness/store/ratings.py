"""The rating tables: ``rating_sheets`` / ``rating_items``, a blinded sheet's key (opaque
item id -> request keys, in the order shown, ``harness.humans.sheets``), and
``human_ratings``, the ratings read back (``harness.humans.reading``), one per (sheet, item,
rater). A rating belongs to the text rated, not to the run a sheet was exported from: every
run that shows a rated text shows its ratings.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from harness.store.migrations import StoreError

# a rating item (alias i) whose texts a run (two ? parameters: its id) shows
_SHOWN = ("i.item_key IN (SELECT request_key FROM run_items WHERE run_id=?) AND"
          " (COALESCE(i.other_key, '')='' OR i.other_key IN (SELECT request_key FROM"
          " run_items WHERE run_id=?))")


class RatingTables:
    """``Store``'s rating sheets and human ratings."""

    db: sqlite3.Connection  # set by ``Store``, which this class is part of

    def sheet(self, sheet_id: str) -> dict[str, Any] | None:
        """Return the rating sheet ``sheet_id`` (id, run_id, kind, scale, created_at), or
        None when there is none."""
        row = self.db.execute("SELECT id, run_id, kind, scale_json, created_at FROM"
                              " rating_sheets WHERE id=?", (sheet_id,)).fetchone()
        if row is None:
            return None
        return {"id": row[0], "run_id": row[1], "kind": row[2],
                "scale": json.loads(row[3]) if row[3] else None, "created_at": row[4]}

    def sheets(self, run_id: str) -> list[dict[str, Any]]:
        """Return the rating sheets that rated texts of a run, oldest first: ratings belong
        to the texts (generation keys), so a sheet exported from one run counts for every
        run that shows one of its rows' texts (a cached rerun shows the same texts)."""
        ids = [r[0] for r in self.db.execute(
            "SELECT s.id FROM rating_sheets s WHERE EXISTS (SELECT 1 FROM rating_items i"
            f" WHERE i.sheet_id=s.id AND {_SHOWN}) ORDER BY s.created_at, s.id",
            (run_id, run_id))]
        return [s for s in (self.sheet(i) for i in ids) if s is not None]

    def add_sheet(self, sheet_id: str, run_id: str, kind: str, scale: Any,
                  items: Sequence[tuple[str, str, str]]) -> bool:
        """Record a sheet's key: ``items`` are (item id, item key, other key) in the order
        shown. One transaction. Return False (and change nothing) when the sheet already
        exists with exactly these items; raise ``StoreError`` when it exists with others."""
        if self.sheet(sheet_id) is not None:
            if self.sheet_items(sheet_id) == [tuple(i) for i in items]:
                return False
            raise StoreError(f"rating sheet {sheet_id} already exists with other items")
        with self.db:
            self.db.execute("INSERT INTO rating_sheets (id, run_id, kind, scale_json,"
                            " created_at) VALUES (?,?,?,?,?)",
                            (sheet_id, run_id, kind, json.dumps(scale), time.time()))
            self.db.executemany("INSERT INTO rating_items (sheet_id, item_id, item_key,"
                                " other_key, position) VALUES (?,?,?,?,?)",
                                [(sheet_id, item_id, key, other, i)
                                 for i, (item_id, key, other) in enumerate(items)])
        return True

    def sheet_items(self, sheet_id: str) -> list[tuple[str, str, str]]:
        """Return a sheet's key: (item id, item key, other key) in the order shown."""
        return [(a, b, c or "") for a, b, c in self.db.execute(
            "SELECT item_id, item_key, other_key FROM rating_items WHERE sheet_id=?"
            " ORDER BY position", (sheet_id,))]

    def add_ratings(self, rows: Sequence[tuple[str, str, str, float]]) -> tuple[int, int, int]:
        """Store ratings (sheet id, item id, rater, value) in one transaction; a rating of
        the same (sheet, item, rater) replaces the earlier one. Return how many were new,
        changed and unchanged (an unchanged rating keeps its first ``imported_at``)."""
        new = changed = same = 0
        now = time.time()
        with self.db:
            for sheet_id, item_id, rater, value in rows:
                old = self.db.execute("SELECT value FROM human_ratings WHERE sheet_id=? AND"
                                      " item_id=? AND rater=?",
                                      (sheet_id, item_id, rater)).fetchone()
                if old is not None and old[0] == value:
                    same += 1
                    continue
                new, changed = (new + 1, changed) if old is None else (new, changed + 1)
                self.db.execute("INSERT OR REPLACE INTO human_ratings (sheet_id, item_id,"
                                " rater, value, imported_at) VALUES (?,?,?,?,?)",
                                (sheet_id, item_id, rater, value, now))
        return new, changed, same

    def ratings(self, run_id: str) -> list[dict[str, Any]]:
        """Return every human rating of a text the run shows (of any sheet: a rating
        belongs to the text rated; a pairwise rating counts when the run shows both texts)
        with its key: sheet, kind, scale (a rating sheet's [low, high], else None), item,
        item_key, other_key, rater, value (for a pairwise sheet, the outcome for
        ``item_key``, the text shown as A: 1 A better, 0 B better, 0.5 a tie)."""
        rows = self.db.execute(
            "SELECT s.id, s.kind, s.scale_json, i.item_id, i.item_key, i.other_key, h.rater,"
            " h.value FROM human_ratings h JOIN rating_sheets s ON s.id=h.sheet_id"
            " JOIN rating_items i ON i.sheet_id=h.sheet_id AND i.item_id=h.item_id"
            f" WHERE {_SHOWN} ORDER BY s.created_at, s.id, i.position, h.rater",
            (run_id, run_id))
        cols = ("sheet", "kind", "scale", "item", "item_key", "other_key", "rater", "value")
        return [{**dict(zip(cols, r, strict=True)), "other_key": r[5] or "",
                 "scale": json.loads(r[2]) if r[2] and r[1] == "rating" else None}
                for r in rows]
