"""Blinded human ratings: export a sheet of a run's texts, read the filled sheet back, and
measure which metric or judge agrees with the humans (docs/ratings.md).

A *sheet* lists texts of one run under opaque item ids, in a shuffled order, with the
task each text answers and nothing that tells the conditions apart: no variant, cell,
grid point, request key, system prompt or few-shot example. Its *key* (item id -> request
keys, and for a pairwise sheet which text was shown as A) stays in the store
(``rating_sheets``, ``rating_items``). Two kinds:

- ``rating``: one text per row, rated on a numeric scale (default 1-5, higher is better).
- ``pairwise``: two texts per row, from two different variants on the same input, grid
  point and sample index, sides drawn at random; the rater answers ``A``, ``B`` or
  ``tie``, stored as the outcome for the text shown as A (1, 0, 0.5).

The task shown is the request's last user message, with the earlier conversation turns
when every variant of that input has the same ones. When the variants word the request
differently (the template is what varies), every item of that input shows the wording of
the first variant of the run, so that the prompt never tells two conditions apart; the
export notes it. System messages are never shown.

Ratings come back as CSV or JSONL (``import_ratings``): every row is checked against the
store and the scale, all bad rows are reported in one ``RatingError``, and nothing is
stored unless every row is good. Importing the same file again changes nothing.

``human_item_scores`` gives per-sample human scores (``human.rating``, the mean over
raters; ``human.pairwise``, a text's win share) to merge into a run's per-sample scores;
``human_section`` gives what a report shows: inter-rater agreement (Krippendorff's alpha),
each metric's and judge's rank correlation with the human mean (clustered by input, best
first), Bradley-Terry strengths of the variants from pairwise votes, and how often a
pairwise judge agrees with the humans.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.metrics.direction import better_when_higher
from harness.store.tables import Store, StoreError

KINDS = ("rating", "pairwise")
DEFAULT_SCALE = (1.0, 5.0)
HUMAN_RATING = "human.rating"
HUMAN_PAIRWISE = "human.pairwise"
JUDGE_PREFIX = "judge."
# answers on a pairwise sheet -> outcome for the text shown as A
CHOICES = {"a": 1.0, "b": 0.0, "tie": 0.5}
# item ids: letters and digits without look-alikes, starting with a letter so that no
# spreadsheet reads one as a number or a date
_ID_FIRST = "abcdefghjkmnpqrstuvwxyz"
_ID_REST = _ID_FIRST + "23456789"
_ID_LEN = 8
# cells a spreadsheet would run as a formula (CSV injection); the CSV prefixes them with '
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class RatingError(InputError):
    """Bad input for ratings: an unknown run or sheet, a run with nothing to rate, or a
    filled sheet with bad rows (``errors`` lists every one)."""

    def __init__(self, message: str, errors: Sequence[str] = ()):
        super().__init__(message)
        self.errors = list(errors)


@dataclass(frozen=True)
class Sheet:
    """An exported sheet: its id, run, kind, scale, the one-line instruction and the rows
    shown to raters (``columns`` in order). ``notes`` are for whoever exports (never in
    the files): what the sheet could not show as it is. ``created``: False when the same
    sheet (same run, kind, selection, scale and seed) was exported before; its key and
    ratings are then reused."""

    id: str
    run_id: str
    kind: str
    scale: tuple[float, float] | None
    instruction: str
    columns: tuple[str, ...]
    rows: list[dict[str, str]]
    notes: list[str] = field(default_factory=list)
    created: bool = True


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


# -- export ---------------------------------------------------------------------------


def parse_scale(text: str) -> tuple[float, float]:
    """Read a scale such as ``1-5``, ``0-10`` or ``1..7``; raise ``RatingError``."""
    m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*(?:-|\.\.|–|:)\s*(-?\d+(?:\.\d+)?)\s*", text)
    if not m or float(m.group(1)) >= float(m.group(2)):
        raise RatingError(f"scale {text!r}: expected LOW-HIGH with LOW below HIGH, e.g. 1-5")
    return float(m.group(1)), float(m.group(2))


def export_sheet(store: Store, run_id: str, *, kind: str = "rating",
                 per_cell: int | None = None,
                 scale: tuple[float, float] = DEFAULT_SCALE, seed: int = 0) -> Sheet:
    """Make a blinded sheet of run ``run_id`` (an id, a prefix or ``latest``) and record
    its key in the store.

    ``rating``: every generated sample of the run (a request key shared by two variants
    once), or ``per_cell`` samples per cell, spread over inputs: the inputs are shuffled
    once (the same order for every cell, so cells are rated on the same inputs) and each
    cell gives sample 0 of each input in that order, then sample 1, ... ``pairwise``:
    for every input, grid point and sample index, every two variants whose texts differ
    (different request keys), or ``per_cell`` such pairs per (pair of variants, grid
    point), spread over inputs in the same way. Rows are shuffled, pairwise sides drawn
    at random and item ids drawn at random, all from a generator seeded with the sheet
    id, which hashes the run, kind, ``per_cell``, scale (rating sheets) and ``seed``: the
    same arguments give the same sheet (and reuse its key and ratings).
    """
    if kind not in KINDS:
        raise RatingError(f"unknown sheet kind {kind!r}; expected rating or pairwise")
    if per_cell is not None and per_cell < 1:
        raise RatingError(f"per_cell must be at least 1, not {per_cell}")
    lo, hi = float(scale[0]), float(scale[1])
    if not lo < hi:
        raise RatingError(f"scale {lo:g}-{hi:g}: the low end must be below the high end")
    run = store.run(run_id)
    if kind == "rating":
        for other in store.sheets(run.id):
            if other["kind"] == "rating" and tuple(other["scale"]) != (lo, hi):
                raise RatingError(
                    f"texts of run {run.id} are already on a rating sheet on the scale "
                    f"{other['scale'][0]:g}-{other['scale'][1]:g} ({other['id']}); ratings "
                    f"on another scale could not be averaged with its ratings: use "
                    f"--scale {other['scale'][0]:g}-{other['scale'][1]:g}")
    items = store.run_items(run.id)
    sheet_id = _sheet_id(run.id, kind, per_cell, (lo, hi) if kind == "rating" else None,
                         seed)
    rng = random.Random(sheet_id)
    request, context, notes = _tasks(items)
    done = [i for i in items if i["text"] is not None]
    if not done:
        raise RatingError(f"run {run.id} has no generated texts to rate")
    order = _input_order(done, rng)
    if kind == "rating":
        chosen = _pick_samples(done, order, per_cell)
        pairs = [(i["key"], "", i["input_id"]) for i in chosen]
    else:
        pairs = _pick_pairs(done, order, per_cell, rng)
    rng.shuffle(pairs)
    texts = {i["key"]: i["text"] for i in done}
    ids = _item_ids(rng, len(pairs))
    key = [(item_id, a, b) for item_id, (a, b, _) in zip(ids, pairs, strict=True)]
    try:
        created = store.add_sheet(sheet_id, run.id, kind,
                                  [lo, hi] if kind == "rating" else list(CHOICES), key)
    except StoreError:
        raise RatingError(f"sheet {sheet_id} was exported from run {run.id} before, with "
                          "other items (the run has changed since); export it with another "
                          "seed") from None
    instruction = _instruction(kind, (lo, hi))
    with_context = any(context.get(inp) for _, _, inp in pairs)
    rows = []
    for item_id, (a, b, inp) in zip(ids, pairs, strict=True):
        row = {"sheet": sheet_id, "item": item_id}
        if with_context:
            row["context"] = context.get(inp, "")
        row["prompt"] = request.get(inp, "")
        if kind == "rating":
            row["text"] = texts[a]
        else:
            row["text_a"], row["text_b"] = texts[a], texts[b]
        rows.append({**row, "rating": "", "rater": "", "instruction": instruction})
    columns = tuple(rows[0]) if rows else ()
    used = {inp for _, _, inp in pairs}
    return Sheet(id=sheet_id, run_id=run.id, kind=kind,
                 scale=(lo, hi) if kind == "rating" else None, instruction=instruction,
                 columns=columns, rows=rows, created=created,
                 notes=_wording_notes([(inp, v) for inp, v in notes if inp in used]))


def _wording_notes(shown: list[tuple[str, str]]) -> list[str]:
    """One note per variant whose wording is shown for inputs where the variants word the
    request differently, naming the first few inputs."""
    by_variant: dict[str, list[str]] = defaultdict(list)
    for inp, variant in shown:
        by_variant[variant].append(inp)
    notes = []
    for variant, inputs in by_variant.items():
        named = ", ".join(inputs[:5]) + (f", ... ({len(inputs)} inputs)" if len(inputs) > 5
                                         else "")
        notes.append(f"the variants word the request differently for input"
                     f"{'s' if len(inputs) > 1 else ''} {named}; every item of "
                     f"{'them' if len(inputs) > 1 else 'it'} shows the wording of variant "
                     f"{variant}")
    return notes


def _sheet_id(run_id: str, kind: str, per_cell: int | None,
              scale: tuple[float, float] | None, seed: int) -> str:
    blob = json.dumps([run_id, kind, per_cell, list(scale) if scale else None, seed])
    return "sheet-" + hashlib.sha256(blob.encode()).hexdigest()[:10]


def _instruction(kind: str, scale: tuple[float, float]) -> str:
    if kind == "rating":
        lo, hi = (f"{v:g}" for v in scale)
        return (f"Rate how well each text does the task in 'prompt', from {lo} (worst) to "
                f"{hi} (best): write the number in 'rating' and your name in 'rater'.")
    return ("For each row, which text does the task in 'prompt' better? Write A, B or tie "
            "in 'rating' and your name in 'rater'.")


def _last_user(messages: list[dict[str, str]]) -> int | None:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i]["role"] == "user":
            return i
    return None


def _tasks(items: list[dict[str, Any]]
           ) -> tuple[dict[str, str], dict[str, str], list[tuple[str, str]]]:
    """Per input: the request shown, the earlier turns shown, and (input, variant) for
    each input whose variants word the request differently (the variant whose wording
    is shown).

    The request is the last user message; the context is the longest run of earlier
    non-system turns that ends every variant's chat of that input before its request
    (empty unless all variants share them). When the variants word the request
    differently, the first variant's wording is shown for every item of the input."""
    by_input: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_input[item["input_id"]].append(item)
    request: dict[str, str] = {}
    context: dict[str, str] = {}
    notes: list[tuple[str, str]] = []
    for inp, group in by_input.items():
        asks: dict[str, str] = {}
        befores: list[list[tuple[str, str]]] = []
        for item in group:
            msgs = item["messages"]
            last = _last_user(msgs)
            if last is None:
                continue
            asks.setdefault(item["variant"], msgs[last]["content"])
            befores.append([(m["role"], m["content"]) for m in msgs[:last]
                            if m["role"] != "system"])
        if not asks:
            continue
        first = next(iter(asks.values()))
        request[inp] = first
        if len(set(asks.values())) > 1:
            notes.append((inp, next(iter(asks))))
        shared = _common_suffix(befores)
        context[inp] = "\n\n".join(f"{role}: {text}" for role, text in shared)
    return request, context, notes


def _common_suffix(seqs: list[list[tuple[str, str]]]) -> list[tuple[str, str]]:
    if not seqs:
        return []
    n = min(len(s) for s in seqs)
    k = 0
    while k < n and all(s[len(s) - 1 - k] == seqs[0][len(seqs[0]) - 1 - k] for s in seqs):
        k += 1
    return seqs[0][len(seqs[0]) - k:]


def _input_order(items: list[dict[str, Any]], rng: random.Random) -> dict[str, int]:
    inputs = list(dict.fromkeys(i["input_id"] for i in items))
    rng.shuffle(inputs)
    return {inp: n for n, inp in enumerate(inputs)}


def _spread(group: list[Any], input_of: Any, index_of: Any, order: dict[str, int],
            limit: int | None) -> list[Any]:
    """``group`` ordered round-robin over inputs (sample 0 of every input in ``order``,
    then sample 1, ...), the first ``limit``."""
    rounds: dict[str, int] = defaultdict(int)
    ranked = []
    for g in sorted(group, key=lambda g: (index_of(g), order[input_of(g)])):
        ranked.append(((rounds[input_of(g)], order[input_of(g)]), g))
        rounds[input_of(g)] += 1
    ranked.sort(key=lambda r: r[0])
    out = [g for _, g in ranked]
    return out if limit is None else out[:limit]


def _pick_samples(items: list[dict[str, Any]], order: dict[str, int], per_cell: int | None
                  ) -> list[dict[str, Any]]:
    by_cell: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_cell[item["cell"]].append(item)
    seen: set[str] = set()
    chosen = []
    for group in by_cell.values():
        for item in _spread(group, lambda i: i["input_id"], lambda i: i["sample_index"],
                            order, per_cell):
            if item["key"] not in seen:  # two variants with the same chat share a text
                seen.add(item["key"])
                chosen.append(item)
    return chosen


def _pick_pairs(items: list[dict[str, Any]], order: dict[str, int], per_cell: int | None,
                rng: random.Random) -> list[tuple[str, str, str]]:
    variants = list(dict.fromkeys(i["variant"] for i in items))
    if len(variants) < 2:
        raise RatingError("a pairwise sheet compares variants, and this run has one "
                          f"({variants[0]}); export a rating sheet instead")
    slots: dict[tuple[str, str, int], dict[str, str]] = defaultdict(dict)
    for item in items:
        grid = json.dumps(item["grid"], sort_keys=True)
        slots[(item["input_id"], grid, item["sample_index"])].setdefault(item["variant"],
                                                                         item["key"])
    groups: dict[tuple[str, str, str], list[tuple[str, str, str, int]]] = defaultdict(list)
    for (inp, grid, index), by_variant in slots.items():
        for x, va in enumerate(variants):
            for vb in variants[x + 1:]:
                ka, kb = by_variant.get(va), by_variant.get(vb)
                if ka and kb and ka != kb:
                    groups[(va, vb, grid)].append((ka, kb, inp, index))
    if not groups:
        raise RatingError("no two variants of this run have generated texts for the same "
                          "input, grid point and sample index: nothing to compare")
    seen: set[frozenset[str]] = set()
    pairs = []
    for group in groups.values():
        for ka, kb, inp, _ in _spread(group, lambda p: p[2], lambda p: p[3], order, per_cell):
            if frozenset((ka, kb)) in seen:
                continue
            seen.add(frozenset((ka, kb)))
            pairs.append((ka, kb, inp) if rng.random() < 0.5 else (kb, ka, inp))
    return pairs


def _item_ids(rng: random.Random, n: int) -> list[str]:
    ids: list[str] = []
    taken: set[str] = set()
    while len(ids) < n:
        token = rng.choice(_ID_FIRST) + "".join(rng.choice(_ID_REST)
                                                for _ in range(_ID_LEN - 1))
        if token not in taken:
            taken.add(token)
            ids.append(token)
    return ids


def write_sheet(sheet: Sheet, out: Path) -> list[Path]:
    """Write ``<out>.csv`` and ``<out>.jsonl`` (a ``.csv``/``.jsonl`` suffix of ``out`` is
    dropped first); return both paths.

    The CSV is UTF-8 with a byte-order mark, which Excel needs to read non-ASCII text
    (Chinese, accents) correctly and other tools ignore; a cell that starts like a formula
    (``=``, ``+``, ``-``, ``@``) is prefixed with ``'`` so that a spreadsheet shows it as
    text instead of running it. The JSONL holds the texts exactly, one row per line."""
    base = out.with_suffix("") if out.suffix.lower() in (".csv", ".jsonl") else out
    base.parent.mkdir(parents=True, exist_ok=True)
    csv_path = base.parent / (base.name + ".csv")
    jsonl_path = base.parent / (base.name + ".jsonl")
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(sheet.columns))
        writer.writeheader()
        for row in sheet.rows:
            writer.writerow({k: _csv_safe(v) for k, v in row.items()})
    with open(jsonl_path, "w", encoding="utf-8") as fh:
        for row in sheet.rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return [csv_path, jsonl_path]


def _csv_safe(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


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
    return [c[1:] if c.startswith("'") and c[1:].startswith(_FORMULA_START) else c
            for c in cells]


# -- results --------------------------------------------------------------------------


def _ratings(store: Store, run_id: str) -> list[dict[str, Any]]:
    """The human ratings of the texts a run shows (``Store.ratings``), ratings of rating
    sheets on one scale: the oldest rating sheet's (a store of an earlier release may
    hold sheets of two runs on two scales that now share texts; each value is mapped
    linearly onto that scale)."""
    ratings = store.ratings(run_id)  # oldest sheet first
    scales = [tuple(r["scale"]) for r in ratings if r["kind"] == "rating" and r["scale"]]
    if len(set(scales)) <= 1:
        return ratings
    lo, hi = scales[0]
    out = []
    for r in ratings:
        if r["kind"] == "rating" and r["scale"] and tuple(r["scale"]) != (lo, hi):
            a, b = r["scale"]
            r = {**r, "value": lo + (float(r["value"]) - a) / (b - a) * (hi - lo),
                 "scale": [lo, hi]}
        out.append(r)
    return out


def _pair_outcomes(ratings: list[dict[str, Any]]
                   ) -> dict[tuple[str, str], dict[str, list[float]]]:
    """Pairwise votes by unordered pair, oriented to the pair's sorted keys: {(k1, k2):
    {rater: [outcome for k1, ...]}}."""
    out: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in ratings:
        if r["kind"] != "pairwise":
            continue
        a, b, v = r["item_key"], r["other_key"], float(r["value"])
        k1, k2 = sorted((a, b))
        out[(k1, k2)][r["rater"]].append(v if a == k1 else 1.0 - v)
    return out


def _rating_by_key(ratings: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """{request key: {rater: mean of that rater's ratings of it}} over rating sheets."""
    acc: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in ratings:
        if r["kind"] == "rating":
            acc[r["item_key"]][r["rater"]].append(float(r["value"]))
    return {k: {who: _mean(vs) for who, vs in by.items()} for k, by in acc.items()}


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def describe_human(sheets: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The summary's description of the human metrics of a run with these ``sheets`` (as
    ``analysis._describe`` gives a registered metric's), with the bounds they take."""
    out: dict[str, dict[str, Any]] = {}
    for sheet in sheets:  # oldest first: the first rating sheet's scale is the one shown
        if sheet["kind"] == "rating" and sheet.get("scale") and HUMAN_RATING not in out:
            lo, hi = sheet["scale"]
            out[HUMAN_RATING] = {
                "kind": "human", "higher_is": "better", "bounds": [lo, hi],
                "description": f"human rating {lo:g}-{hi:g}, mean over raters (rated "
                               "samples only)",
                "source": "blinded rating sheet (docs/ratings.md)"}
        elif sheet["kind"] == "pairwise":
            out[HUMAN_PAIRWISE] = {
                "kind": "human", "higher_is": "better", "bounds": [0, 1],
                "description": "human win share against other variants' samples (a tie "
                               "counts half; rated pairs only)",
                "source": "blinded pairwise sheet (docs/ratings.md)"}
    return out


def human_item_scores(store: Store, run_id: str) -> dict[str, dict[str, float]]:
    """Per-sample human scores of a run, to merge into its per-sample metric values:
    ``{request key: {"human.rating": mean over raters (each rater's own ratings of the key
    averaged first), "human.pairwise": the share of the text's pairwise comparisons it
    won (a tie counts half; over every rater's vote)}}``; a key has only the scores it was
    rated for. ``human.pairwise`` depends on which variants a text met: read it next to
    the Bradley-Terry strengths in ``human_section``."""
    ratings = _ratings(store, store.run(run_id).id)
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for key, by_rater in _rating_by_key(ratings).items():
        out[key][HUMAN_RATING] = _mean(list(by_rater.values()))
    wins: dict[str, list[float]] = defaultdict(list)
    for (k1, k2), votes_by in _pair_outcomes(ratings).items():
        for votes in votes_by.values():
            wins[k1].extend(votes)
            wins[k2].extend(1.0 - v for v in votes)
    for key, vs in wins.items():
        out[key][HUMAN_PAIRWISE] = _mean(vs)
    return dict(out)


def human_section(store: Store, run_id: str, sample_scores: dict[str, dict[str, float]],
                  items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """What a report shows about a run's human ratings (JSON-able), or None when it has
    none.

    ``sample_scores``: the run's per-sample values {request key: {metric: value}} (metrics
    and ``judge.*`` values; ``human.*`` entries are ignored); ``items``: its plan rows
    (key, variant, input_id, ...). Returns ``{"sheets", "items", "raters", "rating",
    "pairwise"}``: counts over all sheets, then per kind (None when the run has no sheet
    of that kind):

    - ``rating``: ``agreement``: Krippendorff's alpha between raters (interval level;
      units are request keys, a rater's repeated ratings of one key averaged);
      ``metrics``: for each metric, Spearman's rank correlation of its per-sample value
      with the human mean over the rated samples that have it, 95% interval clustered
      by input (``rank_correlation``), and ``agreement``: the correlation oriented so
      that higher always means "agrees with the humans" (negated for a metric where
      lower is better; ``judge.*`` are higher-is-better). Best first; metrics without a
      direction (e.g. length) last, by the size of their correlation.
    - ``pairwise``: ``agreement``: Krippendorff's alpha (nominal: A, B or tie as shown;
      units are the sheets' rows) between raters; ``strength``: the Bradley-Terry
      strength of each variant from every human vote (jackknife over inputs);
      ``judges``: for each pairwise judge in ``judgments`` that judged pairs the humans
      also judged, the share of those pairs where the judge's verdict equals the
      humans', Wilson interval. The judge's verdict is its own outcome of the pair
      (``harness.judges.calls.pair_outcomes``: both orders combined, a tie when they
      disagree, mean over repeats), the humans' the mean of their votes; either is a win
      for one text above 0.5, for the other below, a tie at 0.5.
    """
    from harness.stats.agreement import bradley_terry, krippendorff_alpha, rank_correlation, share

    run = store.run(run_id)
    ratings = _ratings(store, run.id)
    if not ratings:
        return None
    input_of = {i["key"]: i["input_id"] for i in items}
    out: dict[str, Any] = {
        "sheets": len({r["sheet"] for r in ratings}),
        "items": len({(r["sheet"], r["item"]) for r in ratings}),
        "raters": sorted({r["rater"] for r in ratings}),
        "n_ratings": len(ratings),
        "rating": None, "pairwise": None,
    }
    by_key = _rating_by_key(ratings)
    if by_key:
        raters = sorted({who for by in by_key.values() for who in by})
        table = [[by.get(who) for who in raters] for by in by_key.values()]
        alpha = krippendorff_alpha(table, "interval")
        human = {k: _mean(list(by.values())) for k, by in by_key.items()}
        out["rating"] = {
            "n_samples": len(human), "raters": raters,
            "agreement": {**alpha.as_dict(), "what": "Krippendorff's alpha between raters, "
                          "interval level, over rated samples"},
            "metrics": _metric_rows(human, sample_scores, input_of, rank_correlation),
        }
    pairs = _pair_outcomes(ratings)
    if pairs:
        # units: the rows of the sheets, answers as shown (A, B, tie): sides were drawn at
        # random, so a side says nothing by itself, while a pair oriented by variant would
        # make a strong preference look like chance agreement
        shown: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
        for r in ratings:
            if r["kind"] == "pairwise":
                shown[(r["sheet"], r["item"])][r["rater"]] = float(r["value"])
        raters = sorted({who for by in shown.values() for who in by})
        alpha = krippendorff_alpha([[by.get(who) for who in raters] for by in shown.values()],
                                   "nominal")
        out["pairwise"] = {
            "n_pairs": len(pairs), "n_votes": sum(len(v) for by in pairs.values()
                                                  for v in by.values()),
            "raters": raters,
            "agreement": {**alpha.as_dict(), "what": "Krippendorff's alpha between raters, "
                          "nominal (A, B, tie as shown), over rated rows"},
            "strength": _strengths(pairs, items, bradley_terry),
            "judges": _judge_agreement(store.pairwise_verdicts(run.id), pairs, share),
        }
    return out


def _metric_rows(human: dict[str, float], sample_scores: dict[str, dict[str, float]],
                 input_of: dict[str, str], rank_correlation: Any) -> list[dict[str, Any]]:
    names = sorted({m for k in human for m in sample_scores.get(k, {})
                    if not m.startswith("human.")})
    rows = []
    for name in names:
        keys = [k for k in human if name in sample_scores.get(k, {})]
        x = [sample_scores[k][name] for k in keys]
        y = [human[k] for k in keys]
        est = rank_correlation(x, y, clusters=[input_of.get(k, k) for k in keys])
        up = better_when_higher(name)  # judge.* are higher-is-better
        oriented = None if est.value is None or up is None else (
            est.value if up else -est.value)
        rows.append({"metric": name, "kind": "judge" if name.startswith(JUDGE_PREFIX)
                     else "metric", "higher_is_better": up, **est.as_dict(),
                     "agreement": oriented})

    def rank(r: dict[str, Any]) -> tuple[int, float]:
        if r["agreement"] is not None:
            return (0, -r["agreement"])
        return (1 if r["value"] is not None else 2, -abs(r["value"] or 0.0))

    return sorted(rows, key=rank)


def _strengths(pairs: dict[tuple[str, str], dict[str, list[float]]],
               items: list[dict[str, Any]], bradley_terry: Any) -> dict[str, Any]:
    variants: dict[str, list[str]] = defaultdict(list)
    input_of: dict[str, str] = {}
    for i in items:
        if i["variant"] not in variants[i["key"]]:
            variants[i["key"]].append(i["variant"])
        input_of[i["key"]] = i["input_id"]
    matches: list[tuple[str, str, float, str]] = []
    for (k1, k2), by_rater in pairs.items():
        va = next(iter(variants.get(k1, [])), None)
        vb = next((v for v in variants.get(k2, []) if v != va), None)
        if va is None or vb is None:
            continue
        for votes in by_rater.values():
            matches.extend((va, vb, v, input_of.get(k1, k1)) for v in votes)
    if not matches:
        return {}
    return {v: est.as_dict() for v, est in bradley_terry(matches).items()}


def _verdict(outcome: float) -> str:
    return "first" if outcome > 0.5 else "second" if outcome < 0.5 else "tie"


def _judge_agreement(calls: list[tuple[str, str, str, int, int, float | None]],
                     pairs: dict[tuple[str, str], dict[str, list[float]]], share: Any
                     ) -> list[dict[str, Any]]:
    from harness.judges.kinds import pair_outcomes

    by_judge: dict[str, list[tuple[str, str, int, int, float | None]]] = defaultdict(list)
    for judge, item, other, repeat, swapped, value in calls:
        by_judge[judge].append((item, other, repeat, swapped, value))
    verdicts: dict[str, dict[tuple[str, str], float]] = {}
    for judge, judged in by_judge.items():
        # the judge's own outcome of a pair: both orders combined, mean over repeats
        for (a, b), v in pair_outcomes(judged).items():
            k1, k2 = sorted((a, b))
            verdicts.setdefault(judge, {})[(k1, k2)] = v if a == k1 else 1.0 - v
    rows = []
    for judge, by_pair in sorted(verdicts.items()):
        both = [p for p in by_pair if p in pairs]
        if not both:
            continue
        agree = sum(
            _verdict(by_pair[p]) == _verdict(_mean([v for vs in pairs[p].values()
                                                           for v in vs]))
            for p in both)
        rows.append({"judge": judge, **share(agree, len(both)).as_dict(),
                     "what": "share of the pairs people rated where the judge's verdict "
                             "(which text won, or a tie) equals theirs"})
    return sorted(rows, key=lambda r: -(r["value"] or 0.0))
