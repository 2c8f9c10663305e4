"""Judges inside `harness run`, against a local fake judge server (an OpenAI-compatible
endpoint scripted to score, to answer unreadably and to be position-biased). Generation
uses the runner's fake backend; the judge goes through the real openai backend over HTTP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.generate.runner import run_suite
from harness.store.tables import Store
from harness.suite.load import load_suite
from harness.summarize.build import build_summary
from harness.summarize.model import Summary
from tests.conftest import FakeBackend

SUITE = """\
name: judged
backend: hf
seed: 3
samples: 3
defaults: {{max_tokens: 16}}
prompts:
  - id: plain
    template: "Write a short poem about {{{{ topic }}}}."
  - id: terse
    template: "Write a very short poem about {{{{ topic }}}}."
  - id: wordy
    template: "Write a long poem about {{{{ topic }}}}."
inputs: [{{topic: rain}}, {{topic: snow}}, {{topic: wind}}, {{topic: 春天}},
         {{topic: sea}}, {{topic: 大海}}, {{topic: moon}}, {{topic: stars}}]
metrics: [distinct_1, length_words]
judges:
{judges}
"""


def _judged(text: str) -> list[str]:
    return re.findall(r"<<<\n(.*?)\n>>>", text, re.S)


@pytest.fixture
def generation_faked(monkeypatch):
    """The run generates with FakeBackend (texts of varied length); judges on `openai`
    reach the fake judge server through the real backend."""
    import harness.generate.runner
    from harness.backends import make_backend as real

    def make(name, model, **kwargs):
        return real(name, model, **kwargs) if name == "openai" else FakeBackend()

    monkeypatch.setattr(harness.generate.runner, "make_backend", make)


def _suite(tmp_path: Path, judges: str) -> Path:
    path = tmp_path / "judged.yaml"
    path.write_text(SUITE.format(judges=judges), encoding="utf-8")
    return path


def _judge(url: str, name: str, kind: str, extra: str = "") -> str:
    return (f"  - {{name: {name}, kind: {kind}, backend: openai, model: fake-judge,"
            f" server: {{base_url: '{url}'}}{extra}}}\n")


def test_rubric_scores_cache_and_unreadable_answers(tmp_path, serve, generation_faked):
    # scores the length in words (capped at 10); texts starting with "spring" get an
    # answer that cannot be read
    def script(body, attempt):
        text = _judged(body["messages"][-1]["content"])[0]
        if text.startswith("spring"):
            return ("ok", "I cannot judge this one.")
        return ("ok", f"The imagery is plain.\nScore: {min(10, len(text.split()))}")

    server = serve(script)
    store = Store(tmp_path / "s.sqlite")
    suite = load_suite(_suite(tmp_path, _judge(server.url, "length", "rubric")))
    result = run_suite(suite, store)
    calls = len(server.seen)
    assert calls == 72  # 3 variants x 8 inputs x 3 samples, one call each
    items = {i["key"]: i for i in store.run_items(result.run.id)}
    judged = store.judgments(result.run.id)["length"]
    unread = [j for j in judged if j["value"] is None]
    assert unread and all(items[j["item_key"]]["text"].startswith("spring") for j in unread)
    for j in judged:
        if j["value"] is not None:  # the value is the server's score of that very text
            assert j["value"] == min(10, len(items[j["item_key"]]["text"].split()))
    section = result.summary["judges"]["length"]
    assert section["calls"] == 72
    assert section["unreadable"]["value"] == pytest.approx(len(unread) / 72)
    # an unreadable verdict is left out, never a 0: each cell's mean is the mean of the
    # readable scores only
    cell = next(c for c in result.summary["cells"] if c["variant"] == "plain")
    m = cell["metrics"]["judge.length"]
    readable = [j["value"] for j in judged if j["value"] is not None
                and items[j["item_key"]]["variant"] == "plain"]
    assert min(readable) <= m["mean"] <= max(readable)
    assert m["n"] == 24 and all(v >= 1 for v in m["inputs"].values())
    # the judge scores length, and the report says so
    assert section["length_bias"]["value"] > 0.9
    # judge values are metrics like the others: a checks row, a plot axis
    from harness.stats.gate import run_checks
    from harness.suite.evaluation import Check

    rows = run_checks(result.summary, [Check.model_validate("judge.length >= 1")], None)
    assert len(rows) == 3 and all(r["passed"] for r in rows)
    rows = run_checks(result.summary, [Check.model_validate("judge.length >= 9")], None)
    assert not any(r["passed"] for r in rows)  # fake texts have 5-12 words, scored by length
    from harness.summarize.pareto import pareto_frontier

    frontier = pareto_frontier(result.summary["cells"], "distinct_1", "judge.length")
    best = max(result.summary["cells"], key=lambda c: c["metrics"]["judge.length"]["mean"])
    assert best["cell"] in frontier  # judged higher is better on the y axis
    # a re-run asks the judge nothing: its answers are in the store
    again = run_suite(load_suite(suite.path), store)
    assert len(server.seen) == calls
    assert again.summary["judges"]["length"] == section
    Summary.model_validate(again.summary)  # the published schema describes the sections
    usage = again.summary["usage"]["rows"]["judge length"]
    assert usage["calls"] == 72 and usage["model"] == "fake-judge"
    assert usage["prompt_tokens"] == 72 * 7  # what the server reported


def test_position_biased_judge_is_detected_and_cancelled(tmp_path, serve, generation_faked):
    def biased(body, attempt):
        return ("ok", "Winner: A")  # always the text shown first

    server = serve(biased)
    store = Store(tmp_path / "s.sqlite")
    suite = load_suite(_suite(tmp_path, _judge(server.url, "pref", "pairwise")))
    result = run_suite(suite, store)
    assert len(server.seen) == 3 * 24 * 2  # 3 variant pairs per slot, 24 slots, 2 orders
    section = result.summary["judges"]["pref"]
    assert section["position"]["first_chosen"]["value"] == 1.0
    assert section["position"]["consistent"]["value"] == 0.0
    # order swapping turns every biased verdict into a tie: no variant wins
    for cell in result.summary["cells"]:
        assert cell["metrics"]["judge.pref"]["mean"] == pytest.approx(0.5)
    Summary.model_validate(result.summary)
    strengths = section["strengths"]
    assert set(strengths) == {"plain", "terse", "wordy"}
    assert all(abs(s["value"]) < 1e-6 for s in strengths.values())
    # centring to mean 0 leaves -1e-17s and -0.0s: none reaches a report as "-0.00"
    shown = [f"{s[k]:.2f}" for s in strengths.values() for k in ("value", "lo", "hi")
             if s[k] is not None]
    assert shown and "-0.00" not in shown
    from harness.report.sections import strength_rows

    assert not any("-0.00" in r[2] for r in strength_rows(result.summary))
    # without the swap the first-shown variant would have won every pair
    judged = store.judgments(result.run.id)["pref"]
    unswapped = [j["value"] for j in judged if not j["swapped"]]
    assert set(unswapped) == {1.0}


def test_real_preference_survives_position_bias(tmp_path, serve, generation_faked):
    # prefers the longer text, but answers "A" regardless on a third of the calls
    def script(body, attempt):
        prompt = body["messages"][-1]["content"]
        a, b = _judged(prompt)
        if hash(prompt) % 3 == 0:
            return ("ok", "Winner: A")
        la, lb = len(a.split()), len(b.split())
        return ("ok", "Winner: " + ("A" if la > lb else "B" if lb > la else "tie"))

    server = serve(script)
    store = Store(tmp_path / "s.sqlite")
    suite = load_suite(_suite(tmp_path, _judge(server.url, "pref", "pairwise")))
    result = run_suite(suite, store)
    section = result.summary["judges"]["pref"]
    assert section["position"]["first_chosen"]["value"] > 0.55  # the bias is seen
    assert section["position"]["consistent"]["value"] < 1.0
    # items' win shares follow length, the judge's real preference
    scores = {i["key"]: i for i in build_summary(store, result.run.id)["samples"]}
    by_len = sorted(scores.values(), key=lambda s: s["scores"]["length_words"])
    short, long = by_len[: len(by_len) // 3], by_len[-len(by_len) // 3:]
    mean = lambda xs: sum(x["scores"]["judge.pref"] for x in xs) / len(xs)  # noqa: E731
    assert mean(long) > mean(short) + 0.2


def test_human_ratings_join_the_summary_and_rank_the_judge(tmp_path, serve, generation_faked):
    """Export a blinded sheet of a judged run, rate it by hand (people who also like
    length, with noise), import it: the cells gain `human.rating` with intervals, and the
    report ranks the judge first and the directionless length metric last."""
    import csv
    import random
    import zlib

    from harness.humans.reading import import_ratings
    from harness.humans.sheets import export_sheet, write_sheet
    from harness.report.markdown import render_markdown

    server = serve(lambda body, attempt: (
        "ok", f"Score: {min(10, len(_judged(body['messages'][-1]['content'])[0].split()))}"))
    store = Store(tmp_path / "s.sqlite")
    suite = load_suite(_suite(tmp_path, _judge(server.url, "length", "rubric")))
    run = run_suite(suite, store).run
    sheet = export_sheet(store, run.id, scale=(1, 5), seed=1)
    csv_path, _ = write_sheet(sheet, tmp_path / "sheet")
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8-sig")))
    for row in rows:  # the noise depends on the text only, not on the sheet's order
        words = len(row["text"].split())
        noise = random.Random(zlib.crc32(row["text"].encode())).gauss(0, 0.7)
        row["rating"] = str(max(1, min(5, round(words / 3 + noise))))
        row["rater"] = "ann"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    import_ratings(store, csv_path)
    summary = build_summary(store, run.id)
    Summary.model_validate(summary)
    cell = summary["cells"][0]["metrics"]["human.rating"]
    assert cell["lo"] is not None and 1 <= cell["lo"] <= cell["mean"] <= cell["hi"] <= 5
    assert summary["metrics"]["human.rating"]["higher_is"] == "better"
    ranked = [r["metric"] for r in summary["human"]["rating"]["metrics"]]
    # length_words tracks the people too, but has no better direction: it is listed last
    assert ranked == ["judge.length", "length_words"]
    judge_row = next(r for r in summary["human"]["rating"]["metrics"]
                     if r["metric"] == "judge.length")
    assert judge_row["value"] > 0.6 and judge_row["n"] == 72
    md = render_markdown(summary)
    assert "Human ratings: which metric to believe?" in md and "judge.length" in md


def test_two_judges_on_two_servers_each_reach_their_own(tmp_path, serve, generation_faked):
    one = serve(lambda body, attempt: ("ok", "Score: 3"))
    two = serve(lambda body, attempt: ("ok", "Score: 8"))
    # the same model name on two servers, asked different things (the same question to
    # the same model name would be one cached call: a request key names the model, not
    # the server)
    judges = (_judge(one.url, "first", "rubric", ", criterion: coherence")
              + _judge(two.url, "second", "rubric", ", criterion: creativity")
              + "  - {name: both, kind: panel, of: [first, second]}\n")
    store = Store(tmp_path / "s.sqlite")
    result = run_suite(load_suite(_suite(tmp_path, judges)), store)
    assert len(one.seen) == len(two.seen) == 72
    cell = result.summary["cells"][0]["metrics"]
    assert (cell["judge.first"]["mean"], cell["judge.second"]["mean"]) == (3.0, 8.0)
    # the panel: each member rescaled to 0-1 on its 1-10 scale, then averaged
    assert cell["judge.both"]["mean"] == pytest.approx(((3 - 1) / 9 + (8 - 1) / 9) / 2)
    # it asks nothing, but its values are believed as much as any judge's: a reliability
    # row with its length bias and its members' agreement
    panel = result.summary["judges"]["both"]
    assert (panel["kind"], panel["calls"], panel["members"]) == ("panel", 0, ["first", "second"])
    assert panel["length_bias"]["n"] == 72 and "member_agreement" in panel
    Summary.model_validate(result.summary)
    # against each other: the members; a panel is not compared with its own members
    assert [(r["a"], r["b"]) for r in result.summary["judge_agreement"]] == [
        ("judge.first", "judge.second")]


def test_checklist_share_and_per_question_rates(tmp_path, serve, generation_faked):
    # question 1 always passes, question 2 passes for texts of 8 words or more, and a
    # text starting with "rain" gets an answer missing question 2 (unreadable)
    def script(body, attempt):
        text = _judged(body["messages"][-1]["content"])[0]
        if text.startswith("rain"):
            return ("ok", "1. yes")
        return ("ok", f"1. yes\n2. {'yes' if len(text.split()) >= 8 else 'no'}")

    server = serve(script)
    questions = ", questions: ['Is it a poem?', 'Is it long enough?']"
    store = Store(tmp_path / "s.sqlite")
    suite = load_suite(_suite(tmp_path, _judge(server.url, "form", "checklist", questions)))
    result = run_suite(suite, store)
    items = {i["key"]: i["text"] for i in store.run_items(result.run.id)}
    judged = store.judgments(result.run.id)["form"]
    read = [j for j in judged if j["value"] is not None]
    long = sum(1 for j in read if len(items[j["item_key"]].split()) >= 8)
    for j in read:
        assert j["value"] == (1.0 if len(items[j["item_key"]].split()) >= 8 else 0.5)
    section = result.summary["judges"]["form"]
    assert section["unreadable"]["value"] == pytest.approx(1 - len(read) / len(judged))
    q1, q2 = section["questions"]
    assert (q1["question"], q1["value"], q1["n"]) == ("Is it a poem?", 1.0, len(read))
    assert q2["value"] == pytest.approx(long / len(read))
    from harness.report.markdown import render_markdown

    assert "Is it long enough?" in render_markdown(result.summary)


def test_unreadable_answers_and_bad_counts_never_fail_the_run(tmp_path, serve,
                                                              generation_faked):
    """A refusal (content null), bytes that are not UTF-8, a 5,000,000-digit answer, numbers
    off the scale and token counts no store can hold: each answer is stored, counted as
    unreadable (or read), the run finishes, and a re-run asks nothing and finishes too."""
    import json
    import zlib

    from harness.stats.gate import run_checks
    from harness.suite.evaluation import Check
    from harness.summarize.usage import MAX_TOKEN_COUNT
    from tests.backends.fake_server import completion

    huge: list[str] = []  # the one text answered with 5,000,000 digits

    def kind(text: str) -> int:
        return zlib.crc32(text.encode()) % 8

    def script(body, attempt):
        text = _judged(body["messages"][-1]["content"])[0]
        reply = completion(body, "Score: 5")
        k = kind(text)
        if k == 0:  # a refusal
            reply["choices"][0]["message"] = {"role": "assistant", "content": None,
                                              "refusal": "I can't help with that."}
        elif k in (1, 2):  # not UTF-8: U+FFFD, then read (or not) like any answer
            raw = json.dumps(completion(body, "Score: 6 @" if k == 2 else "Score: @"))
            return ("raw", raw.encode().replace(b"@", b"\xff\xfe"))
        elif k == 3:
            if not huge or huge[0] == text:
                huge[:] = [text]
                reply["choices"][0]["message"]["content"] = "1" * 5_000_000
            else:
                reply["choices"][0]["message"]["content"] = "Score: 1e308"
        elif k == 4:
            reply["choices"][0]["message"]["content"] = "Rating: 4/5"  # another scale
        elif k == 5:
            reply["usage"] = {"prompt_tokens": 2**70, "completion_tokens": 1e308}
        elif k == 6:
            reply["usage"] = {"prompt_tokens": 2**62, "completion_tokens": -3}
        else:
            reply["usage"] = {"prompt_tokens": True, "completion_tokens": 4.5}
        return ("json", reply)

    server = serve(script)
    judge = (f"  - {{name: j, kind: rubric, backend: openai, model: fake-judge, server: "
             f"{{base_url: '{server.url}', max_retries: 1}}}}\n")
    store = Store(tmp_path / "s.sqlite")
    suite = load_suite(_suite(tmp_path, judge))
    result = run_suite(suite, store)
    asked = len(server.seen)
    items = {i["key"]: i["text"] for i in store.run_items(result.run.id)}
    judged = store.judgments(result.run.id)["j"]
    assert len(judged) == 72 and huge
    expected = {0: None, 1: None, 2: 6.0, 3: None, 4: None, 5: 5.0, 6: 5.0, 7: 5.0}
    for row in judged:
        assert row["value"] == expected[kind(items[row["item_key"]])], row["answer"][:40]
    refused = [r for r in judged if kind(items[r["item_key"]]) == 0]
    assert refused and all(r["answer"] == "" for r in refused)
    marks = ",".join("?" * len(refused))
    finish = {f for (f,) in store.db.execute(
        f"SELECT finish_reason FROM generations WHERE key IN ({marks})",
        [r["request_key"] for r in refused])}
    assert finish == {"refused"}
    section = result.summary["judges"]["j"]
    unread = sum(1 for r in judged if r["value"] is None)
    assert section["unreadable"]["value"] == pytest.approx(unread / 72)
    # no count the store cannot read back or sum
    top = store.db.execute("SELECT MAX(prompt_tokens), MAX(completion_tokens), "
                           "MIN(prompt_tokens), MIN(completion_tokens) FROM generations"
                           ).fetchone()
    assert max(top[:2]) <= MAX_TOKEN_COUNT and min(top[2:]) >= 0
    usage = result.summary["usage"]["rows"]["judge j"]
    bad_prompt = sum(1 for r in judged if kind(items[r["item_key"]]) in (5, 6, 7))
    assert usage["prompt_tokens"] == 7 * (72 - bad_prompt)
    # a re-run asks the judge nothing and finishes with the same numbers
    again = run_suite(load_suite(suite.path), store)
    assert len(server.seen) == asked
    assert again.summary["judges"]["j"] == section
    assert again.judge_calls == 72 and again.judge_asked == 0 and result.judge_asked > 0
    # a store written before the bound, holding 2**62 twice, still reports (no overflow)
    store.db.execute("UPDATE generations SET prompt_tokens=? WHERE key IN (SELECT key FROM"
                     " generations LIMIT 2)", (2**62,))
    store.db.commit()
    rows = store.usage(result.run.id)
    assert all(r["prompt_tokens"] <= 72 * 7 for r in rows.values())
    Summary.model_validate(build_summary(store, result.run.id))
    # a check on the judge: a cell with no readable answer says why
    rows = run_checks(again.summary, [Check.model_validate("judge.j >= 1")], None)
    assert all(r["passed"] for r in rows)  # some answers in every cell were read


def test_a_judge_whose_every_answer_is_unreadable_says_so(tmp_path, serve, generation_faked):
    from harness.stats.gate import run_checks
    from harness.suite.evaluation import Check

    server = serve(lambda body, attempt: ("ok", "I cannot judge this text."))
    store = Store(tmp_path / "s.sqlite")
    suite = load_suite(_suite(tmp_path, _judge(server.url, "mute", "rubric")))
    result = run_suite(suite, store)
    assert result.summary["judges"]["mute"]["unreadable"]["value"] == 1.0
    assert "judge.mute" not in result.summary["cells"][0]["metrics"]
    rows = run_checks(result.summary, [Check.model_validate("judge.mute >= 1")], None)
    assert [r["reason"] for r in rows] == ["every answer unreadable (72 of 72)"] * 3
    assert not any(r["passed"] for r in rows)


def test_a_judge_template_failing_in_a_run_is_bad_input_and_keeps_the_generations(
        tmp_path, serve, generation_faked):
    """`harness validate` refuses such a template (tests/judges/test_calls.py); should a
    real text still push one past its limit, the run stops with a SuiteError (exit 2),
    naming the judge, before asking the judge anything, and the generations stay stored."""
    from harness.suite.load import SuiteError

    server = serve(lambda body, attempt: ("ok", "Score: 5"))
    store = Store(tmp_path / "s.sqlite")
    suite = load_suite(_suite(tmp_path, _judge(server.url, "first", "rubric")
                              + _judge(server.url, "big", "rubric")))
    suite.judges[1].prompt = "{{ text * 999000 }}"  # past validation, as a long text would
    with pytest.raises(SuiteError, match="judges: big: judge prompt: template error"):
        run_suite(suite, store)
    assert not server.seen  # every judge is planned before any is asked
    assert store.db.execute("SELECT COUNT(*) FROM generations").fetchone()[0] == 72
