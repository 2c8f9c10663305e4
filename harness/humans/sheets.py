"""Blinded rating sheets: export a sheet of a run's texts for people to rate
(docs/ratings.md). Reading a filled sheet back is ``harness.humans.reading``; what the
ratings say about the metrics and judges is ``harness.stats.ratings``.

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
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.store.tables import Store, StoreError

KINDS = ("rating", "pairwise")
DEFAULT_SCALE = (1.0, 5.0)
# answers on a pairwise sheet -> outcome for the text shown as A
CHOICES = {"a": 1.0, "b": 0.0, "tie": 0.5}
# item ids: letters and digits without look-alikes, starting with a letter so that no
# spreadsheet reads one as a number or a date
_ID_FIRST = "abcdefghjkmnpqrstuvwxyz"
_ID_REST = _ID_FIRST + "23456789"
_ID_LEN = 8
# cells a spreadsheet would run as a formula (CSV injection): ``write_sheet`` prefixes them
# with ', and ``harness.humans.reading`` takes the ' off again
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
    return "'" + value if value.startswith(FORMULA_START) else value
