"""Reading a filled rating sheet back (docs/ratings.md): ``import_ratings`` reads the
CSV or JSONL that ``harness.humans.sheets.write_sheet`` wrote, after people filled it in.

Every row is checked against the store (the sheet's key) and the sheet's scale; all bad
rows are reported in one ``RatingError``, and nothing is stored unless every row is good,
so a half-imported file never skews the numbers. Importing the same file again changes
nothing. The files are read as the harness wrote them (UTF-8, commas, the sheet's column
names): no dialect or encoding is guessed from the data, and a file that differs is named
with the likely cause (semicolons from a spreadsheet's locale, a renamed column).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.humans.sheets import CHOICES, FORMULA_START, RatingError
from harness.store.tables import Store


@dataclass(frozen=True)
class ImportResult:
    """What an import stored: ratings per sheet, raters, runs, and how many ratings were
    new, changed (a rater's new value for an item) or unchanged (already imported);
    ``blank``: rows left without a rating (skipped)."""

    sheets: list[str]
    runs: list[str]
    raters: list[str]
    n_ratings: int
    new: int
    changed: int
    unchanged: int
    blank: int


# -- import ---------------------------------------------------------------------------


def import_ratings(store: Store, path: Path, rater: str | None = None) -> ImportResult:
    """Read a filled sheet (CSV or JSONL, as written by ``write_sheet``; extra columns and
    reordered rows are fine) and store its ratings.

    Needed columns: ``sheet``, ``item``, ``rating``, and ``rater`` unless ``rater`` is
    given (it then fills rows whose rater cell is empty; a row naming another rater is an
    error). A rating is a number on the sheet's scale (``4``, ``3.5``, ``4,5``), or ``A``,
    ``B`` or ``tie`` on a pairwise sheet; a row with an empty rating is skipped. Every row
    is checked (unknown sheet or item, no rater, a rating that is not a number or off the
    scale, one rater giving one item two different ratings); if any is bad, nothing is
    stored and ``RatingError`` lists them all. Importing the same file again changes
    nothing; several raters come as several files or one file with a rater column."""
    rows, errors = _read_rows(path)
    sheets: dict[str, dict[str, Any] | None] = {}
    known: dict[str, set[str]] = {}
    parsed: dict[tuple[str, str, str], float] = {}
    where: dict[tuple[str, str, str], str] = {}
    blank = 0
    default = rater.strip() if rater and rater.strip() else None
    for label, row in rows:
        sheet_id, item_id = row.get("sheet", "").strip(), row.get("item", "").strip()
        answer, who = row.get("rating", "").strip(), row.get("rater", "").strip()
        if not answer:
            blank += 1
            continue
        problems = []
        if sheet_id not in sheets:
            sheets[sheet_id] = store.sheet(sheet_id) if sheet_id else None
            known[sheet_id] = {i for i, _, _ in store.sheet_items(sheet_id)}
        sheet = sheets[sheet_id]
        if not sheet_id:
            problems.append("no sheet id")
        elif sheet is None:
            problems.append(f"unknown sheet {sheet_id!r} (not exported from this store)")
        elif item_id not in known[sheet_id]:
            problems.append(f"unknown item {item_id!r} in sheet {sheet_id}"
                            if item_id else "no item id")
        if default and who and who != default:
            problems.append(f"rater {who!r}, but --rater is {default!r}")
        who = who or default or ""
        if not who:
            problems.append("no rater (fill the rater column or give --rater)")
        value = None
        if sheet is not None:
            value, problem = _value(answer, sheet)
            if problem:
                problems.append(problem)
        if not problems and value is not None:
            k = (sheet_id, item_id, who)
            if k in parsed and parsed[k] != value:
                problems.append(f"{who} rated item {item_id} differently in {where[k]}")
            parsed[k], where[k] = value, label
        if problems:
            errors.append(f"{label}: " + "; ".join(problems))
    if errors:
        errors.sort(key=_line_number)  # unreadable lines among the bad rows, in file order
        shown = errors[:SHOW_ERRORS] + ([f"... and {len(errors) - SHOW_ERRORS} more"]
                                        if len(errors) > SHOW_ERRORS else [])
        raise RatingError(f"{path}: {len(errors)} bad row{'s' if len(errors) > 1 else ''}, "
                          "nothing imported:\n  " + "\n  ".join(shown), errors)
    if not parsed:
        raise RatingError(f"{path}: no ratings in the file (every 'rating' cell is empty)")
    new, changed, unchanged = store.add_ratings(
        [(s, i, r, v) for (s, i, r), v in parsed.items()])
    used = sorted({s for s, _, _ in parsed})
    return ImportResult(sheets=used,
                        runs=sorted({(sheets[s] or {})["run_id"] for s in used}),
                        raters=sorted({r for _, _, r in parsed}), n_ratings=len(parsed),
                        new=new, changed=changed, unchanged=unchanged, blank=blank)


def _line_number(error: str) -> int:
    m = re.match(r"(?:row|line) (\d+)", error)
    return int(m.group(1)) if m else 0


def _value(answer: str, sheet: dict[str, Any]) -> tuple[float | None, str | None]:
    if sheet["kind"] == "pairwise":
        v = CHOICES.get(answer.lower())
        return (v, None) if v is not None else (
            None, f"answer {answer!r} is not A, B or tie")
    lo, hi = sheet["scale"]
    text = answer.replace(",", ".") if answer.count(",") == 1 and "." not in answer else answer
    try:
        v = float(text)
    except ValueError:
        return None, f"rating {answer!r} is not a number"
    if not math.isfinite(v) or not lo <= v <= hi:
        return None, f"rating {answer!r} is off the scale {lo:g}-{hi:g}"
    return v, None


# the sheet files the harness reads back are ones it wrote: at most this big, and a CSV
# field (a text) can be as long as the file
MAX_SHEET_BYTES = 1 << 30
NEEDED = ("sheet", "item", "rating")
SHOW_ERRORS = 50  # bad rows listed in the message (``RatingError.errors`` has them all)


def _read_rows(path: Path) -> tuple[list[tuple[str, dict[str, str]]], list[str]]:
    """(where, row) for every row of a CSV or JSONL file, under the column names exactly
    as written (the sheet's are lower-case), and the lines that could not be read (JSONL;
    reported with the bad rows)."""
    try:
        size = path.stat().st_size
        if size > MAX_SHEET_BYTES:
            raise RatingError(f"{path} is {size / 2**20:,.0f} MiB; a rating sheet the harness "
                              f"writes is at most {MAX_SHEET_BYTES >> 20:,} MiB: is it the "
                              "right file?")
        raw = path.read_bytes()
    except OSError as exc:
        raise RatingError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RatingError(f"{path} is not UTF-8 text; in Excel save it as 'CSV UTF-8'"
                          ) from None
    if not text.strip():
        raise RatingError(f"{path} is empty")
    as_jsonl = (path.suffix.lower() in (".jsonl", ".json")
                or (path.suffix.lower() not in (".csv", ".tsv", ".txt")
                    and text.lstrip().startswith("{")))
    if as_jsonl:
        rows, bad = _jsonl_rows(text)
        columns = set().union(*(r.keys() for _, r in rows)) if rows else set()
        header = sorted(columns)
    else:
        header, rows, bad = _csv_rows(path, text)
        columns = set(header)
    missing = [c for c in NEEDED if c not in columns]
    if missing and (rows or not bad):
        raise RatingError(f"{path}: {_missing_columns(missing, header, text)}"
                          + "".join(f"\n  {b}" for b in bad), bad)
    return rows, bad


def _missing_columns(missing: list[str], header: Sequence[str], text: str) -> str:
    """Why the file lacks the columns ``missing``: names that differ from the sheet's
    only in case or spaces, or a CSV whose columns are not separated by commas."""
    msg = (f"no column {', '.join(repr(c) for c in missing)} (the sheet's columns are named "
           "exactly sheet, item, ..., rating, rater")
    near = [h for h in header if h.strip().lower() in missing]
    if near:
        return msg + f"; {', '.join(repr(h) for h in near)} differ in case or spaces: " \
                     "rename the column to the sheet's name)"
    first = text.splitlines()[0]
    for sep, name in ((";", "semicolons"), ("\t", "tabs")):
        if len(header) <= 1 and sep in first:
            return msg + f"; this file separates columns with {name}, and the sheet is " \
                         "comma-separated: in a spreadsheet save it as 'CSV UTF-8 (comma " \
                         "delimited)', or import the .jsonl written beside it)"
    return msg + ")"


def _jsonl_rows(text: str) -> tuple[list[tuple[str, dict[str, str]]], list[str]]:
    rows, bad = [], []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line, object_pairs_hook=_no_repeats)
        except json.JSONDecodeError as exc:
            bad.append(f"line {n}: not JSON ({exc.msg})")
            continue
        except _Repeated as exc:
            bad.append(f"line {n}: the key {exc.args[0]!r} appears twice")
            continue
        if not isinstance(obj, dict):
            bad.append(f"line {n}: not a JSON object")
            continue
        rows.append((f"line {n}", {str(k): _cell(v) for k, v in obj.items()}))
    return rows, bad


class _Repeated(Exception):
    pass


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _Repeated(k)
        out[k] = v
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return str(value)


def _csv_rows(path: Path, text: str
              ) -> tuple[list[str], list[tuple[str, dict[str, str]]], list[str]]:
    """The header and rows of a CSV in the dialect ``write_sheet`` writes (``csv``'s
    default: commas, double quotes); no dialect is guessed from the data."""
    limit = csv.field_size_limit()
    # a field (one text) can be as long as the file; the file's size is bounded above
    csv.field_size_limit(max(limit, min(len(text) + 1, MAX_SHEET_BYTES)))
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise RatingError(f"{path}: not a readable CSV file ({exc})") from None
    finally:
        csv.field_size_limit(limit)
    header = table[0] if table else []
    seen: dict[str, int] = {}
    for n, name in enumerate(header, 1):
        if name in NEEDED or name == "rater":
            if name in seen:
                raise RatingError(f"{path}: the column {name!r} appears twice (columns "
                                  f"{seen[name]} and {n}); keep one")
            seen[name] = n
    # row numbers as a spreadsheet shows them: the header is row 1
    rows = [(f"row {n}", dict(zip(header, _strip_guard(r), strict=False)))
            for n, r in enumerate(table[1:], 2) if any(c.strip() for c in r)]
    return header, rows, []


def _strip_guard(cells: Iterable[str]) -> list[str]:
    return [c[1:] if c.startswith("'") and c[1:].startswith(FORMULA_START) else c
            for c in cells]
