"""Blinded human ratings: export, fill in, import, and the agreement numbers (no model)."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from collections import defaultdict
from pathlib import Path

import pytest
from scipy import stats
from typer.testing import CliRunner

from harness.cli.app import app
from harness.humans.reading import import_ratings
from harness.humans.sheets import RatingError, export_sheet, write_sheet
from harness.records import Generation, Request, SamplingParams
from harness.stats.ratings import human_item_scores, human_section
from harness.store.tables import Store

VARIANTS = ("alpha_variant", "beta_variant")
SECRET = "You are the secret-persona narrator"
INPUTS = ("in1", "in2", "in3", "in4", "in5", "in6")
TEMPS = (0.5, 1.0)
SAMPLES = 2


def _chat(variant: str, inp: str, *, history: bool = False, template_differs: bool = False
          ) -> tuple[tuple[str, str], ...]:
    ask = f"Write a short poem about topic {inp}."
    if template_differs and variant == VARIANTS[1]:
        ask = f"Compose four lines on topic {inp}."
    head = (("system", SECRET),) if variant == VARIANTS[1] else ()
    turns = (("user", f"Hello, I like {inp}."), ("assistant", "Then let us write.")) \
        if history else ()
    return (*head, *turns, ("user", ask))


def make_run(path: Path, variants: tuple[str, ...] = VARIANTS, **chat_kw
             ) -> tuple[Store, str, list[dict]]:
    """A finished run of len(variants) x 2 temperatures x 6 inputs x 2 samples with texts and
    per-sample scores, without a model."""
    store = Store(path)
    requests, gens = [], []
    n = 0
    for v in variants:
        for t in TEMPS:
            for inp in INPUTS:
                for s in range(SAMPLES):
                    n += 1
                    key = f"k{n:03d}{v[0]}"
                    r = Request(key=key, model="fake", messages=_chat(v, inp, **chat_kw),
                                params=SamplingParams(temperature=t), sample_index=s, seed=n,
                                variant=v, input_id=inp, cell=f"{v}|temperature={t:g}",
                                grid=(("temperature", t),))
                    requests.append(r)
                    # a text that says nothing about its variant or cell
                    gens.append((r, Generation(key=key, text=f"poem number {n} on {inp}")))
    run = store.start_run(suite_name="toy", suite_path="toy.yaml", suite_hash="h", model="fake",
                          backend="hf", requests=requests, config={})
    store.add_generations(gens)
    store.finish_run(run.id)
    keys = [r.key for r in requests]
    i = range(len(keys))
    store.save_run_scores(run.id, keys, {
        "judge.coherence": [float((j * 7) % 5) for j in i],
        "perplexity": [10.0 + (j * 3) % 11 for j in i],
        "relevance": [((j * 5) % 13) / 13 for j in i],
        "length_words": [float(j % 4) for j in i],
    }, {})
    return store, run.id, store.run_items(run.id)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def key_of(store: Store, sheet_id: str) -> dict[str, tuple[str, str]]:
    return {i: (a, b) for i, a, b in store.sheet_items(sheet_id)}


def alice(key: str) -> float:
    return float(1 + int(key[1:4]) % 5)


def bob(key: str) -> float:
    return float(min(5, max(1, 1 + (int(key[1:4]) * 3) % 5 + (int(key[1:4]) % 2))))


def alpha_interval(units: list[list[float]]) -> float:
    """Krippendorff's alpha, interval level, from its definition over pairable values:
    1 - D_o / D_e with D_o from within-unit pairs (each unit weighted 1/(m_u - 1)) and D_e
    from all pairs of pairable values."""
    units = [u for u in units if len(u) >= 2]
    values = [v for u in units for v in u]
    n = len(values)
    d_o = sum(sum((a - b) ** 2 for i, a in enumerate(u) for j, b in enumerate(u) if i != j)
              / (len(u) - 1) for u in units) / n
    d_e = sum((a - b) ** 2 for i, a in enumerate(values) for j, b in enumerate(values)
              if i != j) / (n * (n - 1))
    return 1 - d_o / d_e


def alpha_nominal(units: list[list[float]]) -> float:
    units = [u for u in units if len(u) >= 2]
    values = [v for u in units for v in u]
    n = len(values)
    d_o = sum(sum(a != b for i, a in enumerate(u) for j, b in enumerate(u) if i != j)
              / (len(u) - 1) for u in units) / n
    d_e = sum(a != b for i, a in enumerate(values) for j, b in enumerate(values)
              if i != j) / (n * (n - 1))
    return 1 - d_o / d_e


def test_round_trip_two_raters_gives_hand_computed_scores_alpha_and_correlations(tmp_path):
    store, run_id, items = make_run(tmp_path / "s.sqlite")
    sheet = export_sheet(store, run_id)
    assert len(sheet.rows) == len(items)  # every sample once
    csv_path, jsonl_path = write_sheet(sheet, tmp_path / "sheet")
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    key = key_of(store, sheet.id)
    rows = read_csv(csv_path)
    # alice rates every item in the CSV; bob rates all but the first 4 in the JSONL
    write_csv(tmp_path / "alice.csv", [{**r, "rating": f"{alice(key[r['item']][0]):g}"}
                                       for r in rows])
    bob_rows = [json.loads(line) for line in jsonl_path.read_text("utf-8").splitlines()]
    for r in bob_rows[4:]:
        r["rating"], r["rater"] = bob(key[r["item"]][0]), "bob"
    (tmp_path / "bob.jsonl").write_text("".join(json.dumps(r) + "\n" for r in bob_rows),
                                        encoding="utf-8")
    a = import_ratings(store, tmp_path / "alice.csv", rater="alice")
    b = import_ratings(store, tmp_path / "bob.jsonl")
    assert (a.n_ratings, a.raters, a.runs, a.new) == (len(rows), ["alice"], [run_id], len(rows))
    assert (b.n_ratings, b.raters, b.blank) == (len(rows) - 4, ["bob"], 4)

    bob_keys = {key[r["item"]][0] for r in bob_rows[4:]}
    expected = {i["key"]: (alice(i["key"]) + bob(i["key"])) / 2 if i["key"] in bob_keys
                else alice(i["key"]) for i in items}
    scores = human_item_scores(store, run_id)
    assert {k: v["human.rating"] for k, v in scores.items()} == pytest.approx(expected)

    sample, _, _ = store.run_scores(run_id)
    section = human_section(store, run_id, sample, items)
    assert section is not None
    assert (section["sheets"], section["items"], section["raters"]) == (1, len(items),
                                                                         ["alice", "bob"])
    rating = section["rating"]
    units = [[alice(k), bob(k)] if k in bob_keys else [alice(k)] for k in expected]
    agreement = rating["agreement"]
    assert agreement["value"] == pytest.approx(alpha_interval(units))
    assert agreement["n"] and agreement["method"]
    by_metric = {r["metric"]: r for r in rating["metrics"]}
    assert set(by_metric) == {"judge.coherence", "perplexity", "relevance", "length_words"}
    keys = list(expected)
    for name, row in by_metric.items():
        rho = stats.spearmanr([sample[k][name] for k in keys], [expected[k] for k in keys])[0]
        assert row["value"] == pytest.approx(rho), name
        assert row["n"] == len(keys) and row["method"]
        assert row["lo"] is None or row["lo"] <= row["value"] <= row["hi"]
    # oriented: lower perplexity is better, so its agreement is minus its correlation
    assert by_metric["perplexity"]["agreement"] == pytest.approx(-by_metric["perplexity"]
                                                                 ["value"])
    assert by_metric["length_words"]["agreement"] is None  # no direction: listed last
    order = [r["metric"] for r in rating["metrics"]]
    assert order[-1] == "length_words"
    directed = [by_metric[m]["agreement"] for m in order[:-1]]
    assert directed == sorted(directed, reverse=True)
    json.dumps(section)  # JSON-able


def test_sheet_hides_the_condition_and_is_reproducible(tmp_path):
    store, run_id, items = make_run(tmp_path / "s.sqlite")
    sheet = export_sheet(store, run_id, seed=3)
    paths = write_sheet(sheet, tmp_path / "sheet.csv")  # the suffix is dropped
    assert [p.name for p in paths] == ["sheet.csv", "sheet.jsonl"]
    assert sheet.columns == ("sheet", "item", "prompt", "text", "rating", "rater",
                             "instruction")
    blob = "\n".join(p.read_text("utf-8-sig") for p in paths)
    for secret in (*VARIANTS, "alpha", "beta", SECRET, "temperature", "|", run_id,
                   *(i["key"] for i in items)):
        assert secret not in blob, secret
    assert all(re.fullmatch(r"[a-z][a-z2-9]{7}", r["item"]) for r in sheet.rows)
    assert "1 (worst) to 5 (best)" in sheet.instruction
    assert all(r["rating"] == r["rater"] == "" for r in sheet.rows)
    assert {r["prompt"] for r in sheet.rows} == {f"Write a short poem about topic {i}."
                                                 for i in INPUTS}
    shown = [key_of(store, sheet.id)[r["item"]][0] for r in sheet.rows]
    assert shown != [i["key"] for i in items]  # shuffled
    assert sorted(shown) == sorted(i["key"] for i in items)
    again = export_sheet(store, run_id, seed=3)
    assert (again.id, again.rows, again.created) == (sheet.id, sheet.rows, False)
    other = export_sheet(store, run_id, seed=4)
    assert other.id != sheet.id and [r["text"] for r in other.rows] != [r["text"] for r in
                                                                        sheet.rows]


def test_per_cell_spreads_over_the_same_inputs_in_every_cell(tmp_path):
    store, run_id, items = make_run(tmp_path / "s.sqlite")
    sheet = export_sheet(store, run_id, per_cell=3)
    by_key = {i["key"]: i for i in items}
    chosen = [by_key[key_of(store, sheet.id)[r["item"]][0]] for r in sheet.rows]
    cells = defaultdict(list)
    for i in chosen:
        cells[i["cell"]].append(i)
    assert len(cells) == 4 and all(len(c) == 3 for c in cells.values())
    inputs = [sorted(i["input_id"] for i in c) for c in cells.values()]
    assert all(len(set(x)) == 3 for x in inputs)  # 3 different inputs per cell
    assert all(x == inputs[0] for x in inputs)  # the same inputs in every cell


def test_shown_task_context_and_differently_worded_requests(tmp_path):
    store, run_id, _ = make_run(tmp_path / "h.sqlite", history=True)
    sheet = export_sheet(store, run_id)
    assert "context" in sheet.columns and SECRET not in json.dumps(sheet.rows)
    row = sheet.rows[0]
    topic = row["prompt"].split()[-1].rstrip(".")
    assert row["context"] == f"user: Hello, I like {topic}.\n\nassistant: Then let us write."
    assert not sheet.notes

    store, run_id, _ = make_run(tmp_path / "t.sqlite", template_differs=True)
    sheet = export_sheet(store, run_id)
    assert "Compose" not in json.dumps(sheet.rows)  # one wording per input: the first variant's
    # one note for all the inputs it concerns, not one per input
    assert len(sheet.notes) == 1 and VARIANTS[0] in sheet.notes[0]
    assert f"({len(INPUTS)} inputs)" in sheet.notes[0] and "in1, in2" in sheet.notes[0]


def pairwise_filled(store: Store, sheet, items, prefer: str = VARIANTS[1]) -> list[dict]:
    """Every rater prefers ``prefer``'s text except on input in1 (a tie)."""
    variant = {i["key"]: i["variant"] for i in items}
    inp = {i["key"]: i["input_id"] for i in items}
    key = key_of(store, sheet.id)
    rows = []
    for r in sheet.rows:
        a, _ = key[r["item"]]
        choice = "tie" if inp[a] == "in1" else "A" if variant[a] == prefer else "B"
        rows.append({**r, "rating": choice})
    return rows


def test_pairwise_round_trip_ranks_the_planted_preference_and_scores_judges(tmp_path):
    store, run_id, items = make_run(tmp_path / "s.sqlite")
    sheet = export_sheet(store, run_id, kind="pairwise")
    assert sheet.columns == ("sheet", "item", "prompt", "text_a", "text_b", "rating", "rater",
                             "instruction")
    assert len(sheet.rows) == len(INPUTS) * len(TEMPS) * SAMPLES  # one pair per slot
    variant = {i["key"]: i["variant"] for i in items}
    key = key_of(store, sheet.id)
    sides = [variant[key[r["item"]][0]] for r in sheet.rows]
    assert 0 < sides.count(VARIANTS[1]) < len(sides)  # random sides
    rows = pairwise_filled(store, sheet, items)
    write_csv(tmp_path / "ann.csv", rows)
    write_csv(tmp_path / "ben.csv", [{**r, "rating": r["rating"].lower()} for r in rows])
    import_ratings(store, tmp_path / "ann.csv", rater="ann")
    import_ratings(store, tmp_path / "ben.csv", rater="ben")

    # judges, each pair in both orders: "good" agrees with the people on every pair, "flip"
    # says the opposite, "first" always picks the text shown first (its orders disagree:
    # a tie)
    judged = []
    for a, b in key.values():
        human = 1.0 if variant[a] == VARIANTS[1] else 0.0
        if next(i["input_id"] for i in items if i["key"] == a) == "in1":
            human = 0.5
        for swapped in (0, 1):
            judged += [("judge.good", a, b, swapped, human),
                       ("judge.flip", a, b, swapped, 1 - human),
                       ("judge.first", a, b, swapped, 1.0 - swapped)]
    with store.db:
        store.db.executemany("INSERT INTO judgments (run_id, judge, item_key, other_key,"
                             " repeat, swapped, request_key, value) VALUES (?,?,?,?,0,?,'',?)",
                             [(run_id, *row) for row in judged])

    scores = human_item_scores(store, run_id)
    beta = [v["human.pairwise"] for k, v in scores.items() if variant[k] == VARIANTS[1]]
    alpha_ = [v["human.pairwise"] for k, v in scores.items() if variant[k] == VARIANTS[0]]
    assert min(beta) >= 0.5 >= max(alpha_) and sum(beta) > sum(alpha_)

    section = human_section(store, run_id, store.run_scores(run_id)[0], items)
    assert section is not None and section["rating"] is None
    pw = section["pairwise"]
    assert (pw["n_pairs"], pw["n_votes"], pw["raters"]) == (len(key), 2 * len(key),
                                                            ["ann", "ben"])
    assert pw["agreement"]["value"] == pytest.approx(1.0)  # the raters agree on every pair
    strength = pw["strength"]
    assert strength[VARIANTS[1]]["value"] > strength[VARIANTS[0]]["value"]
    judges = {r["judge"]: r for r in pw["judges"]}
    assert judges["judge.good"]["value"] == pytest.approx(1.0)
    assert judges["judge.good"]["n"] == len(key)
    # flip disagrees except where the humans tie (1 - 0.5 is a tie too)
    ties = sum(1 for a, _ in key.values()
               if next(i["input_id"] for i in items if i["key"] == a) == "in1")
    assert judges["judge.flip"]["value"] == pytest.approx(ties / len(key))
    assert judges["judge.first"]["value"] == pytest.approx(ties / len(key))
    assert [r["judge"] for r in pw["judges"]][0] == "judge.good"


def test_pairwise_alpha_matches_the_definition_when_raters_disagree(tmp_path):
    store, run_id, items = make_run(tmp_path / "s.sqlite")
    sheet = export_sheet(store, run_id, kind="pairwise", per_cell=4)
    rows = pairwise_filled(store, sheet, items)
    write_csv(tmp_path / "ann.csv", rows)
    flipped = [{**r, "rating": {"A": "B", "B": "tie", "tie": "tie"}[r["rating"]]}
               if n % 3 == 0 else r for n, r in enumerate(rows)]
    write_csv(tmp_path / "ben.csv", flipped)
    import_ratings(store, tmp_path / "ann.csv", rater="ann")
    import_ratings(store, tmp_path / "ben.csv", rater="ben")
    code = {"A": 1.0, "B": 0.0, "tie": 0.5}
    units = [[code[a["rating"]], code[b["rating"]]] for a, b in zip(rows, flipped, strict=True)]
    section = human_section(store, run_id, {}, items)
    assert section is not None
    assert section["pairwise"]["agreement"]["value"] == pytest.approx(alpha_nominal(units))


def test_bad_rows_are_all_reported_and_nothing_is_stored(tmp_path):
    store, run_id, _ = make_run(tmp_path / "s.sqlite")
    sheet = export_sheet(store, run_id)
    write_sheet(sheet, tmp_path / "sheet")
    rows = read_csv(tmp_path / "sheet.csv")
    filled = [{**r, "rating": "3", "rater": "ann"} for r in rows]
    filled[1]["rating"] = "7"
    filled[2]["rating"] = "good"
    filled[3]["item"] = "zzzzzzzz"
    filled[4]["rater"] = ""
    filled[5]["sheet"] = "sheet-nope"
    filled[6]["rating"] = ""  # blank: skipped, not an error
    write_csv(tmp_path / "bad.csv", filled)
    with pytest.raises(RatingError) as exc:
        import_ratings(store, tmp_path / "bad.csv")
    msg = str(exc.value)
    assert "5 bad rows, nothing imported" in msg and len(exc.value.errors) == 5
    for row, what in ((3, "off the scale 1-5"), (4, "not a number"), (5, "unknown item"),
                      (6, "no rater"), (7, "unknown sheet")):
        assert f"row {row}: " in msg and what in msg, (row, what)
    assert store.ratings(run_id) == []

    pairs = export_sheet(store, run_id, kind="pairwise", per_cell=2)
    bad = [{**r, "rating": x, "rater": "ann"} for r, x in zip(pairs.rows, ("A", "C", "b"),
                                                                 strict=False)]
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(r) + "\n" for r in bad), "utf-8")
    with pytest.raises(RatingError, match=r"line 2: answer 'C' is not A, B or tie"):
        import_ratings(store, tmp_path / "p.jsonl")
    with pytest.raises(RatingError, match="--rater is 'bob'"):
        import_ratings(store, write_csv(tmp_path / "ok.csv", filled[7:]), rater="bob")
    assert store.ratings(run_id) == []


def test_reimport_is_idempotent_and_a_changed_rating_replaces_the_old(tmp_path):
    store, run_id, _ = make_run(tmp_path / "s.sqlite")
    sheet = export_sheet(store, run_id, per_cell=2)
    rows = [{**r, "rating": "4", "rater": "ann"} for r in sheet.rows]
    path = write_csv(tmp_path / "ann.csv", rows)
    first = import_ratings(store, path)
    stamp = store.db.execute("SELECT MAX(imported_at) FROM human_ratings").fetchone()
    again = import_ratings(store, path)
    assert (first.new, again.new, again.changed, again.unchanged) == (8, 0, 0, 8)
    assert store.db.execute("SELECT MAX(imported_at) FROM human_ratings").fetchone() == stamp
    rows[0]["rating"] = "2"
    fixed = import_ratings(store, write_csv(tmp_path / "ann2.csv", rows))
    assert (fixed.new, fixed.changed, fixed.unchanged) == (0, 1, 7)
    assert sorted(r["value"] for r in store.ratings(run_id)) == [2.0] + [4.0] * 7


def test_excel_habits_are_read_or_named(tmp_path):
    """Decimal commas, a formula guard and spreadsheet-reordered columns and rows are read;
    a file saved with semicolons between columns (a spreadsheet in a decimal-comma locale)
    is not the sheet's comma-separated dialect: a clear error says so and what to do."""
    store, run_id, _ = make_run(tmp_path / "s.sqlite")
    sheet = export_sheet(store, run_id, per_cell=1, scale=(0, 10))
    lines = ["Item;Sheet;Rating;Rater"] + [f"{r['item']};{r['sheet']};7,5;ann"
                                           for r in reversed(sheet.rows)]
    (tmp_path / "x.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RatingError, match="separates columns with semicolons.*CSV UTF-8"):
        import_ratings(store, tmp_path / "x.csv")
    lines = ["item,sheet,rating,rater"] + [f'{r["item"]},{r["sheet"]},"7,5",ann'
                                           for r in reversed(sheet.rows)]
    (tmp_path / "x.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert import_ratings(store, tmp_path / "x.csv").n_ratings == 4
    assert {r["value"] for r in store.ratings(run_id)} == {7.5}
    from harness.humans.sheets import Sheet

    formula = Sheet(id="s", run_id=run_id, kind="rating", scale=(1, 5), instruction="i",
                    columns=("sheet", "item", "text"),
                    rows=[{"sheet": "s", "item": "a", "text": "- a list\n- of things"}])
    csv_path, jsonl_path = write_sheet(formula, tmp_path / "f")
    assert read_csv(csv_path)[0]["text"] == "'- a list\n- of things"
    assert json.loads(jsonl_path.read_text("utf-8"))["text"] == "- a list\n- of things"
    with pytest.raises(RatingError, match="scale"):
        export_sheet(store, run_id, per_cell=2)  # 1-5 beside the run's 0-10 sheet


def test_no_ratings_and_old_stores_give_no_section(tmp_path):
    store, run_id, items = make_run(tmp_path / "s.sqlite")
    assert human_section(store, run_id, {}, items) is None
    assert human_item_scores(store, run_id) == {}
    store.close()
    db = sqlite3.connect(tmp_path / "s.sqlite")
    db.executescript("DROP TABLE human_ratings; DROP TABLE rating_items;"
                     " DROP TABLE rating_sheets; DROP TABLE judgments;")
    db.close()
    old = Store(tmp_path / "s.sqlite", readonly=True)  # read as it is, not migrated
    assert human_section(old, run_id, {}, items) is None


def test_single_variant_runs_cannot_be_compared_pairwise(tmp_path):
    store, run_id, _ = make_run(tmp_path / "s.sqlite", variants=("only",))
    with pytest.raises(RatingError, match="compares variants"):
        export_sheet(store, run_id, kind="pairwise")


def test_cli_export_import_and_exit_codes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store, run_id, _ = make_run(tmp_path / "s.sqlite")
    store.close()
    runner = CliRunner()
    st = ["--store", str(tmp_path / "s.sqlite")]
    res = runner.invoke(app, ["rate", "export", run_id[:8], "--per-cell", "2", *st])
    assert res.exit_code == 0, res.output
    assert "8 texts" in res.output and "kept in the store" in res.output
    made = sorted((tmp_path / "ratings").glob("toy-sheet-*"))
    assert [p.suffix for p in made] == [".csv", ".jsonl"]
    rows = [{**r, "rating": "5"} for r in read_csv(made[0])]
    filled = write_csv(tmp_path / "filled.csv", rows)
    res = runner.invoke(app, ["rate", "import", str(filled), "--rater", "ann", *st])
    assert res.exit_code == 0, res.output
    assert "imported 8 ratings from 1 rater (ann) for run" in res.output
    assert run_id in res.output

    res = runner.invoke(app, ["rate", "export", "latest", "--pairs", "--out",
                              str(tmp_path / "p"), *st])
    assert res.exit_code == 0 and (tmp_path / "p.csv").exists(), res.output
    rows[2]["rating"], rows[5]["rating"] = "9", "x"
    for args in (["rate", "import", str(write_csv(tmp_path / "bad.csv", rows)), "--rater",
                  "ann"],
                 ["rate", "import", str(tmp_path / "missing.csv")],
                 ["rate", "export", "nope"],
                 ["rate", "export", "latest", "--scale", "5-1"],
                 ["rate", "export", "latest", "--scale", "1-7"],
                 ["rate", "export", "latest", "--store", str(tmp_path / "none.sqlite")],
                 ["rate", "import", str(filled), "--store", str(tmp_path / "none.sqlite")]):
        res = runner.invoke(app, [*args, *st] if "--store" not in args else args)
        assert res.exit_code == 2, (args, res.output)
        assert "error:" in res.output and "Traceback" not in res.output
        assert isinstance(res.exception, SystemExit), args
    assert not (tmp_path / "none.sqlite").exists()
    res = runner.invoke(app, ["rate", "import", str(tmp_path / "bad.csv"), "--rater", "ann",
                              *st])
    assert "row 4: rating '9' is off the scale 1-5" in res.output
    assert "row 7: rating 'x' is not a number" in res.output


def test_pairs_of_keys_shared_by_two_variants_are_skipped(tmp_path):
    """Two variants that render the same chat share a generation: nothing to compare."""
    store, run_id, items = make_run(tmp_path / "s.sqlite", variants=("v1", "v2", "v3"))
    # make v3 share v1's keys by pointing its plan rows at v1's generations
    v1 = [i for i in items if i["variant"] == "v1"]
    with store.db:
        for n, i in enumerate(i for i in items if i["variant"] == "v3"):
            store.db.execute("UPDATE run_items SET request_key=? WHERE request_key=?",
                             (v1[n]["key"], i["key"]))
    sheet = export_sheet(store, run_id, kind="pairwise")
    key = key_of(store, sheet.id)
    assert all(a != b for a, b in key.values())
    # v1-v3 share a text; v2-v3 is the same pair of texts as v1-v2: one pair per slot
    assert len(sheet.rows) == len(INPUTS) * len(TEMPS) * SAMPLES


def _filled(store: Store, sheet, value: str = "4", rater: str = "ann") -> list[dict[str, str]]:
    return [{**r, "rating": value, "rater": rater} for r in sheet.rows]


def test_rating_columns_match_exactly(tmp_path):
    """`rating ` (a trailing space) or `Rating` never stands in for `rating`: the sheet's
    own column is read, others are extra columns; a sheet with only a near name, or
    `rating` twice, is a clear error naming the column."""
    store, run_id, _ = make_run(tmp_path / "s.sqlite")
    sheet = export_sheet(store, run_id, per_cell=1)
    rows = [{**r, "rating ": "9", "Rating": "x"} for r in _filled(store, sheet, "3")]
    assert import_ratings(store, write_csv(tmp_path / "a.csv", rows)).n_ratings == 4
    assert {r["value"] for r in store.ratings(run_id)} == {3.0}
    near = [{("Rating" if k == "rating" else k): v for k, v in r.items()}
            for r in _filled(store, sheet)]
    with pytest.raises(RatingError, match="no column 'rating'.*'Rating' differ in case"):
        import_ratings(store, write_csv(tmp_path / "b.csv", near))
    (tmp_path / "b.jsonl").write_text("".join(json.dumps(r) + "\n" for r in near), "utf-8")
    with pytest.raises(RatingError, match="no column 'rating'.*'Rating' differ in case"):
        import_ratings(store, tmp_path / "b.jsonl")
    lines = ["sheet,item,rating,rater,rating"] + [f"{r['sheet']},{r['item']},5,ann,1"
                                                  for r in sheet.rows]
    (tmp_path / "c.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RatingError, match=r"the column 'rating' appears twice \(columns 3 "
                                          r"and 5\)"):
        import_ratings(store, tmp_path / "c.csv")
    # a column name full of semicolons is just a column: the error names the real problem
    lines = ["notes;;;;;;;;;;;;,sheet,item,rating,rater"] + [
        f"x,{r['sheet']},{r['item']},{9 if n == 0 else 2},ann" for n, r in
        enumerate(sheet.rows)]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RatingError) as caught:
        import_ratings(store, tmp_path / "d.csv")
    assert caught.value.errors == ["row 2: rating '9' is off the scale 1-5"]
    assert {r["value"] for r in store.ratings(run_id)} == {3.0}  # nothing stored


def test_the_csv_the_harness_wrote_reads_back_with_any_text_length(tmp_path):
    """A text longer than csv's default field limit (131,072 characters) round-trips, and
    the process-wide limit is left as it was."""
    store, run_id, items = make_run(tmp_path / "s.sqlite")
    long = "word " * 60_000  # 300,000 characters
    with store.db:
        store.db.execute("UPDATE generations SET text=? WHERE key=?", (long, items[0]["key"]))
    sheet = export_sheet(store, run_id)
    csv_path, _ = write_sheet(sheet, tmp_path / "sheet")
    rows = read_csv_long(csv_path)
    assert any(r["text"] == long for r in rows)
    limit = csv.field_size_limit()
    result = import_ratings(store, write_csv_long(tmp_path / "f.csv",
                                                  [{**r, "rating": "2"} for r in rows]),
                            rater="ann")
    assert result.n_ratings == len(sheet.rows) and csv.field_size_limit() == limit


def read_csv_long(path: Path) -> list[dict[str, str]]:
    limit = csv.field_size_limit(1 << 24)
    try:
        return read_csv(path)
    finally:
        csv.field_size_limit(limit)


def write_csv_long(path: Path, rows: list[dict[str, str]]) -> Path:
    return write_csv(path, rows)


def test_jsonl_import_lists_every_bad_row_at_once(tmp_path):
    """Unreadable lines and bad rows are reported together, in file order, as the CSV
    import does; nothing is stored."""
    store, run_id, _ = make_run(tmp_path / "s.sqlite")
    sheet = export_sheet(store, run_id, per_cell=1)
    rows = _filled(store, sheet)
    rows[1]["rating"] = "9"
    rows[3]["item"] = "nosuchitem"
    lines = [json.dumps(r) for r in rows]
    lines.insert(2, "{not json")
    lines.insert(0, '{"sheet": "a", "sheet": "b", "rating": "1"}')
    (tmp_path / "f.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RatingError) as caught:
        import_ratings(store, tmp_path / "f.jsonl")
    assert [e.split(":")[0] for e in caught.value.errors] == [
        "line 1", "line 3", "line 4", "line 6"]
    assert "the key 'sheet' appears twice" in caught.value.errors[0]
    assert "off the scale" in caught.value.errors[1] and "not JSON" in caught.value.errors[2]
    assert "unknown item 'nosuchitem'" in caught.value.errors[3]
    assert "4 bad rows" in str(caught.value) and store.ratings(run_id) == []


def test_many_bad_rows_give_a_bounded_message(tmp_path):
    store, run_id, _ = make_run(tmp_path / "s.sqlite")
    sheet = export_sheet(store, run_id)
    rows = [r for who in ("ann", "bob") for r in _filled(store, sheet, "99", who)]
    with pytest.raises(RatingError) as caught:
        import_ratings(store, write_csv(tmp_path / "f.csv", rows))
    assert len(caught.value.errors) == len(rows) == 96
    assert str(caught.value).count("off the scale") == 50 and "... and 46 more" in str(
        caught.value)


def _rerun(store: Store, run_id: str) -> str:
    """A second run of the same plan (a cached rerun: the same texts, nothing generated)."""
    from harness.records import Request

    items = store.run_items(run_id)
    requests = [Request(key=i["key"], model="fake", messages=(), params=SamplingParams(),
                        sample_index=i["sample_index"], seed=0, variant=i["variant"],
                        input_id=i["input_id"], cell=i["cell"],
                        grid=tuple(i["grid"].items())) for i in items]
    run = store.start_run(suite_name="toy", suite_path="toy.yaml", suite_hash="h2",
                          model="fake", backend="hf", requests=requests, config={})
    store.finish_run(run.id)
    return run.id


def test_ratings_belong_to_the_texts_so_a_cached_rerun_shows_them(tmp_path):
    store, run_id, items = make_run(tmp_path / "s.sqlite")
    rating = export_sheet(store, run_id, per_cell=2)
    import_ratings(store, write_csv(tmp_path / "r.csv", _filled(store, rating)))
    pairs = export_sheet(store, run_id, kind="pairwise", per_cell=2)
    import_ratings(store, write_csv(tmp_path / "p.csv", _filled(store, pairs, "A")))
    again = _rerun(store, run_id)
    scores = {i["key"]: {"length_words": 1.0} for i in items}
    first = human_section(store, run_id, scores, items)
    second = human_section(store, again, scores, store.run_items(again))
    assert first is not None and second == first
    assert first["n_ratings"] == len(rating.rows) + len(pairs.rows) == 12
    assert human_item_scores(store, again) == human_item_scores(store, run_id)
    assert [s["id"] for s in store.sheets(again)] == [rating.id, pairs.id]
    # a rating sheet on another scale is refused for the rerun too (its texts are rated)
    with pytest.raises(RatingError, match="scale"):
        export_sheet(store, again, scale=(0, 10))


def test_an_old_stores_two_scales_for_the_same_texts_are_put_on_one(tmp_path):
    """A store of an earlier release may have rating sheets of two runs of the same texts
    on two scales; ratings now follow texts, so each is mapped onto the oldest sheet's."""
    store, run_id, _ = make_run(tmp_path / "s.sqlite")
    first = export_sheet(store, run_id, per_cell=1)
    import_ratings(store, write_csv(tmp_path / "a.csv", _filled(store, first, "5")))
    again = _rerun(store, run_id)
    second_id = "sheet-older-rel"
    store.add_sheet(second_id, again, "rating", [0.0, 10.0],
                    [(f"x{n}", k, "") for n, (_, k, _) in
                     enumerate(store.sheet_items(first.id))])
    store.add_ratings([(second_id, f"x{n}", "bob", 0.0) for n in range(4)])
    scores = human_item_scores(store, run_id)
    assert {v["human.rating"] for v in scores.values()} == {3.0}  # mean of 5 and 0 -> 1
    summary_human = human_section(store, run_id, {}, store.run_items(run_id))
    assert summary_human["rating"]["raters"] == ["ann", "bob"]


def test_rate_export_says_a_note_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store, run_id, _ = make_run(tmp_path / "s.sqlite", template_differs=True)
    store.close()
    res = CliRunner().invoke(app, ["rate", "export", run_id, "--store",
                                   str(tmp_path / "s.sqlite")])
    assert res.exit_code == 0, res.output
    assert res.output.count("word the request differently") == 1, res.output


def test_the_human_ranking_shows_how_many_items_each_row_is_over(tmp_path):
    """A judge scored on fewer items is not silently ranked above one scored on more:
    each row shows its number of rated items."""
    from harness.report.sections import HUMAN_HEADERS, human_rows

    store, run_id, items = make_run(tmp_path / "s.sqlite")
    sheet = export_sheet(store, run_id)
    by_key = key_of(store, sheet.id)
    rows = [{**r, "rating": str(alice(by_key[r["item"]][0]))} for r in _filled(store, sheet)]
    import_ratings(store, write_csv(tmp_path / "f.csv", rows))
    keys = [i["key"] for i in items]
    scores = {k: {"judge.few": alice(k), "judge.many": bob(k)} for k in keys}
    for k in keys[::3]:
        del scores[k]["judge.few"]
    section = human_section(store, run_id, scores, items)
    shown = human_rows({"human": section})
    at = HUMAN_HEADERS.index("rated items")
    got = {r[0]: int(r[at]) for r in shown}
    assert got == {"judge.few": 32, "judge.many": 48}
    assert [r[0] for r in shown][0] == "judge.few"  # ranked first, on fewer items
