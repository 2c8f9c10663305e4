"""Hostile input: every row runs the real CLI on one bad (or odd but valid) input and expects
the documented exit code (0 ok, 1 check failed, 2 bad input, 3 the backend failed), a
fragment of the message, exactly one ``error:`` line for a failure, never a traceback, and
no escape sequence or bidirectional override in the output. Then the terminal: suite,
model, sheet and rater strings with rich markup, ANSI escapes and bidi controls through
``run``, ``runs``, ``compare``, ``check`` and ``rate``; the exit codes of an internal error
(4) and an interrupt (130); unit tests of the fixes behind some rows: Markdown, HTML,
terminal and JSON escaping of suite and model strings, and the openai backend's reading of
odd replies.

Rows marked xfail (strict) are known failures in code outside this file's scope; they turn
into errors ("XPASS(strict)") as soon as that code is fixed, so the mark gets removed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.backends.fake_server import FakeServer, completion, prompt_id
from tests.backends.test_openai_faults import backend, make_requests
from tests.report.test_html import make_summary

EVIL_IMG = "![x](http://evil/img)"
EVIL_HTML = '<img src=x onerror="alert(1)">'
DIR = object()  # a files value: make a directory there

# a suite on the openai backend against the module's fake server; its topics pick how the
# server answers (see ``_answer``)
SUITE = """\
name: hostile
model: served-model
backend: openai
server: {{base_url: "{url}", max_retries: 1, timeout: 10}}
samples: 2
prompts: [{{id: p, template: "Say {{{{ topic }}}}."}}]
inputs: [{{id: a, topic: "{topic} one"}}, {{id: b, topic: "{topic} two"}}]
metrics: [distinct_2, length_words]
checks: ["length_words >= 0"]
"""


def _suite(topic: str = "plain") -> str:
    return SUITE.format(url="{url}", topic=topic)  # {url}: filled in by the test


def _judged(topic: str, judge: str = "{name: j}") -> str:
    """The suite with one judge on the same fake server (its calls' topics pick how the
    server answers the judge, see ``_answer``)."""
    return _suite(topic) + (
        "judges:\n  - " + judge[:-1] + ", backend: openai, model: judge-model, server: "
        '{base_url: "{url}", max_retries: 1, timeout: 10}}\n')


def _many_variants(n: int) -> str:
    prompts = "".join(f'  - {{id: p{i}, template: "Say {{{{ topic }}}} {i}."}}\n'
                      for i in range(n))
    return ("name: wide\nmodel: m\nbackend: openai\nserver: {base_url: 'http://127.0.0.1:9/v1'}"
            "\nsamples: 1\nprompts:\n" + prompts + "inputs: [{topic: rain}]\n"
            "judges: [{name: pref, kind: pairwise, repeats: 20}]\n")


def _answer(body: dict, attempt: int) -> tuple:
    """The fake server: a reply per topic keyword, else text with markup and a NUL."""
    pid = prompt_id(body)
    reply = completion(body, f"answer to {pid} {EVIL_IMG} {EVIL_HTML} \x00")
    if "The text to judge" in pid:  # a judge's call
        reply = completion(body, "Score: 7")
        if "JUDGE-NULL" in pid:
            reply["choices"][0]["message"] = {"role": "assistant", "content": None,
                                              "refusal": "I will not judge this."}
        elif "JUDGE-USAGE" in pid:
            reply["usage"] = {"prompt_tokens": 2**70, "completion_tokens": 1e308}
        return ("json", reply)
    if "NULL-CONTENT" in pid:
        reply["choices"][0]["message"]["content"] = None
    elif "BAD-USAGE" in pid:
        reply["usage"] = {"prompt_tokens": "x", "completion_tokens": [1]}
    elif "LONE-SURROGATE" in pid:
        reply["choices"][0]["message"]["content"] = "broken \ud800 text"
    return ("json", reply)


def _report_json() -> str:
    """A valid JSON report whose strings carry Markdown image and HTML payloads."""
    s = make_summary()
    old = s["cells"][0]["cell"]
    new = old.replace("plain", EVIL_IMG)
    s["cells"][0]["cell"] = new
    s["pareto"]["cells"] = [new if c == old else c for c in s["pareto"]["cells"]]
    for sample in s["samples"]:
        if sample["cell"] == old:
            sample["cell"] = new
    s["run"]["model"] = EVIL_HTML
    return json.dumps(s)


LINES = '{"text": "the cat sat"}\n{"text": "a dog ran"}\n'
# what a terminal acts on: rich markup (``[/]`` alone crashed rich; ``[link=...]`` made a
# live hyperlink), an OSC title change ended by BEL, a screen clear, a right-to-left override
MARKUP = "[/]"
LINK = "[link=https://evil.example/]alice[/link]"
ANSI = "\x1b]0;pwned\x07\x1b[2J"
RLO = "\u202e"
EVIL_TERM = f"{MARKUP} {LINK} {ANSI} {RLO}gnp.exe"
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _groups(*groups: str) -> str:
    return "".join(json.dumps({"text": f"text {i} of {g}", "group": g}) + "\n"
                   for i, g in enumerate(groups))


def _priced(price: str) -> str:
    return _suite().replace("metrics:", f"prices: {{served-model: {{input: 1, output: {price}}}}}"
                            "\nmetrics:")


def row(name: str, args: list[str], code: int, says: str, files: dict[str, Any] | None = None,
        markdown: bool = False, xfail: str | None = None):
    """One case: ``files`` (text, bytes or ``DIR``) are made in the working directory first;
    ``markdown``: stdout is Markdown that must render without images, links or tags."""
    marks = [pytest.mark.xfail(reason=xfail, strict=True)] if xfail else []
    return pytest.param(args, files or {}, code, says, markdown, id=name, marks=marks)


CASES = [
    # -- harness score: the file ------------------------------------------------------------
    row("score-missing-file", ["score", "missing.jsonl"], 2, "missing.jsonl: no such file"),
    row("score-directory", ["score", "d"], 2, "d: is a directory", {"d": DIR}),
    row("score-not-utf8", ["score", "t.jsonl"], 2, "t.jsonl: not UTF-8 text",
        {"t.jsonl": b'{"text": "caf\xe9"}\n'}),
    row("score-nul-bytes", ["score", "t.jsonl"], 2, "t.jsonl: not UTF-8 text",
        {"t.jsonl": b'{"text": "a"}\n\x00\x00\n'}),
    row("score-utf8-bom-is-fine", ["score", "t.jsonl", "--metrics", "distinct_2", "--json"],
        0, '"all"', {"t.jsonl": b"\xef\xbb\xbf" + LINES.encode()}),
    row("score-empty-file", ["score", "t.jsonl"], 2, "t.jsonl: no texts", {"t.jsonl": "\n \n"}),
    row("score-not-json", ["score", "t.jsonl"], 2,
        't.jsonl:2: expected a JSON object with a "text" field',
        {"t.jsonl": '{"text": "a"}\n{text: b}\n'}),
    row("score-json-list", ["score", "t.jsonl"], 2, 't.jsonl:1: expected a JSON object',
        {"t.jsonl": '["text", "a"]\n'}),
    row("score-deep-nesting", ["score", "t.jsonl"], 2, 't.jsonl:1: expected a JSON object',
        {"t.jsonl": "[" * 100_000 + "\n"}),
    row("score-text-null", ["score", "t.jsonl"], 2,
        't.jsonl:2: "text" must be a string, not null',
        {"t.jsonl": '{"text": "a"}\n{"text": null}\n'}),
    row("score-text-number", ["score", "t.jsonl"], 2, '"text" must be a string, not a number',
        {"t.jsonl": '{"text": 42}\n'}),
    row("score-text-lone-surrogate", ["score", "t.jsonl"], 2,
        't.jsonl:1: "text" is not valid Unicode', {"t.jsonl": '{"text": "a \\ud800 b"}\n'}),
    row("score-group-number", ["score", "t.jsonl"], 2,
        't.jsonl:1: "group" must be a string, not a number',
        {"t.jsonl": '{"text": "a b", "group": 1}\n{"text": "c d", "group": "1"}\n'}),
    row("score-group-list", ["score", "t.jsonl"], 2, '"group" must be a string, not a list',
        {"t.jsonl": '{"text": "a b", "group": ["x"]}\n'}),
    row("score-group-null-is-absent", ["score", "t.jsonl", "--metrics", "distinct_2",
                                       "--json"], 0, '"all"',
        {"t.jsonl": '{"text": "a b", "group": null}\n'}),
    row("score-string-groups-stay-apart", ["score", "t.jsonl", "--metrics", "length_words",
                                           "--json"], 0, '"01"',
        {"t.jsonl": '{"text": "a b", "group": "1"}\n{"text": "c", "group": "01"}\n'}),
    row("score-reference-number-bleu", ["score", "t.jsonl", "--metrics", "bleu"], 2,
        't.jsonl:1: "reference" must be a string, not a number',
        {"t.jsonl": '{"text": "a b", "reference": 5}\n'}),
    row("score-reference-list-rouge", ["score", "t.jsonl", "--metrics", "rouge_l,chrf"], 2,
        '"reference" must be a string, not a list',
        {"t.jsonl": '{"text": "a b", "reference": ["a b"]}\n'}),
    row("score-prompt-object", ["score", "t.jsonl"], 2, '"prompt" must be a string',
        {"t.jsonl": '{"text": "a b", "prompt": {"role": "user"}}\n'}),
    # -- harness score: options ---------------------------------------------------------------
    row("score-unknown-metric", ["score", "t.jsonl", "--metrics", "distinct_9"], 2,
        "unknown metric 'distinct_9'", {"t.jsonl": LINES}),
    row("score-no-metrics", ["score", "t.jsonl", "--metrics", " , "], 2, "no metrics given",
        {"t.jsonl": LINES}),
    row("score-source-missing", ["score", "t.jsonl", "--source", "nope.txt"], 2,
        "nope.txt: no such source file", {"t.jsonl": LINES}),
    row("score-source-directory", ["score", "t.jsonl", "--metrics", "max_verbatim_span",
                                   "--source", "corpus"], 2, "corpus: is a directory",
        {"t.jsonl": LINES, "corpus": DIR}),
    row("score-source-binary", ["score", "t.jsonl", "--metrics", "max_verbatim_span",
                                "--source", "corpus.bin"], 2,
        "corpus.bin: not a UTF-8 text file",
        {"t.jsonl": LINES, "corpus.bin": bytes(range(256)) * 4}),
    row("score-source-jsonl-bad-line", ["score", "t.jsonl", "--metrics", "max_verbatim_span",
                                        "--source", "c.jsonl"], 2,
        'c.jsonl:2: expected a JSON object with a "text" field',
        {"t.jsonl": LINES, "c.jsonl": '{"text": "ok"}\n[1]\n'}),
    row("score-bad-embedder", ["score", "t.jsonl", "--metrics", "embedding_diversity",
                               "--embedder", "/nonexistent"], 2,
        "embedder '/nonexistent': not an alias", {"t.jsonl": LINES}),
    # -- reports of stored runs and JSON report files -----------------------------------------
    row("report-no-store", ["report", "nonexistent-run-id", "--store", "empty.sqlite"], 2,
        "no store at empty.sqlite"),
    row("report-store-not-sqlite", ["report", "latest", "--store", "g.sqlite"], 2,
        "file is not a database", {"g.sqlite": b"garbage, not SQLite" * 100}),
    row("report-unknown-format", ["report", "rep.json", "--format", "pdf"], 2,
        "unknown report format 'pdf'", {"rep.json": _report_json()}),
    row("report-md-escapes-suite-strings", ["report", "rep.json", "--format", "md"], 0,
        "\\!\\[x\\]\\(http://evil/img\\)", {"rep.json": _report_json()}, markdown=True),
    row("report-output-is-directory", ["report", "rep.json", "-o", "out"], 2,
        "out: is a directory", {"rep.json": _report_json(), "out": DIR}),
    row("report-json-list", ["report", "list.json"], 2, "not a harness JSON report",
        {"list.json": "[]"}),
    row("report-json-without-run", ["report", "obj.json"], 2, "not a harness JSON report",
        {"obj.json": '{"cells": []}'}),
    row("compare-not-json", ["compare", "nj.json"], 2, "nj.json: not JSON, so not a JSON report",
        {"nj.json": "not json"}),
    row("compare-json-list", ["compare", "list.json"], 2, "not a harness JSON report",
        {"list.json": "[1, 2]"}),
    row("compare-cells-string", ["compare", "cs.json"], 2, "not a harness JSON report",
        {"cs.json": '{"cells": "x"}'}),
    row("compare-unknown-by", ["compare", "rep.json", "--by", "foo"], 2,
        "--by must be variant or grid", {"rep.json": _report_json()}),
    row("compare-unknown-reference", ["compare", "rep.json", "--reference", "nosuch"], 2,
        "no variant 'nosuch'", {"rep.json": _report_json()}),
    row("compare-md-escapes-cell-ids", ["compare", "rep.json", "rep.json", "--format", "md"],
        0, "B − A", {"rep.json": _report_json()}, markdown=True),
    # -- harness check: baseline files -------------------------------------------------------
    row("check-baseline-missing", ["check", "s.yaml", "--baseline", "nope.json"], 2,
        "nope.json: no such baseline file", {"s.yaml": _suite()}),
    row("check-baseline-not-json", ["check", "s.yaml", "--baseline", "b.json"], 2,
        "b.json: not JSON", {"s.yaml": _suite(), "b.json": "{'cells': []}"}),
    row("check-baseline-list", ["check", "s.yaml", "--baseline", "b.json"], 2,
        "b.json: not a harness JSON report", {"s.yaml": _suite(), "b.json": "[]"}),
    row("check-baseline-cells-string", ["check", "s.yaml", "--baseline", "b.json"], 2,
        "not a harness JSON report", {"s.yaml": _suite(), "b.json": '{"cells": "x"}'}),
    row("check-baseline-cells-numbers", ["check", "s.yaml", "--baseline", "b.json"], 2,
        "not a harness JSON report", {"s.yaml": _suite(), "b.json": '{"cells": [1, 2]}'}),
    row("check-baseline-no-cells", ["check", "s.yaml", "--baseline", "b.json"], 2,
        "the baseline has no cells", {"s.yaml": _suite(), "b.json": '{"cells": []}'}),
    # -- suites ------------------------------------------------------------------------------
    row("validate-missing", ["validate", "nope.yaml"], 2, "nope.yaml: no such suite file"),
    row("validate-directory", ["validate", "d"], 2, "Is a directory", {"d": DIR}),
    row("validate-not-utf8", ["validate", "s.yaml"], 2, "s.yaml: cannot read suite",
        {"s.yaml": b"name: caf\xe9\n"}),
    row("validate-not-a-mapping", ["validate", "s.yaml"], 2, "expected a mapping",
        {"s.yaml": "[1, 2]\n"}),
    # -- runs against a misbehaving openai-compatible server ---------------------------------
    row("run-content-null-is-a-failed-request", ["run", "s.yaml"], 3,
        "malformed response (the text is null", {"s.yaml": _suite("NULL-CONTENT")}),
    row("run-bad-usage-keeps-the-reply", ["run", "s.yaml", "--format", "json"], 0,
        "4 generated", {"s.yaml": _suite("BAD-USAGE")}),
    row("run-lone-surrogate-in-reply", ["run", "s.yaml", "--format", "md,html,json"], 0,
        "4 generated", {"s.yaml": _suite("LONE-SURROGATE")}),
    # -- judges: an unreadable answer is counted, never fatal; limits hold before a run ---------
    row("run-judge-refusal-is-an-unreadable-answer", ["run", "s.yaml"], 0,
        "4 generated, 0 from the store; judges: 2 asked, 0 from the store",
        {"s.yaml": _judged("JUDGE-NULL")}),
    row("run-judge-usage-beyond-sqlite-integers", ["run", "s.yaml"], 0,
        "judges: 2 asked, 0 from the store", {"s.yaml": _judged("JUDGE-USAGE")}),
    row("validate-shows-judge-calls", ["validate", "s.yaml"], 0,
        "4 requests, up to 8 judge calls", {"s.yaml": _judged("x", "{name: j, repeats: 2}")}),
    row("validate-judge-calls-over-the-limit", ["validate", "s.yaml"], 2,
        "1,000 requests (prompts × inputs × grid points × samples) and 19,980,000 judge "
        "calls, more than the limit", {"s.yaml": _many_variants(1000)}),
    row("validate-rubric-judge-prompt-names-text-a", ["validate", "s.yaml"], 2,
        "prompt: 'text_a' is not a variable of a rubric judge's prompt",
        {"s.yaml": _judged("x", "{name: j, prompt: 'Rate {{ text_a }}.'}")}),
    row("validate-judge-prompt-undefined-inside-if", ["validate", "s.yaml"], 2,
        "'nosuch' is not a variable of a pairwise judge's prompt",
        {"s.yaml": _judged("x", "{name: j, kind: pairwise, prompt: '{{ text_a }} {{ text_b "
                                "}}{% if reference %}{{ nosuch }}{% endif %}'}")}),
    row("validate-judge-prompt-output-limit", ["validate", "s.yaml"], 2,
        "prompt: template error: template builds a value of",
        {"s.yaml": _judged("x", "{name: j, prompt: '{{ text * 999000 }}'}")}),
    row("validate-judge-task-undefined-field", ["validate", "s.yaml"], 2,
        "task: 'nosuch' is undefined", {"s.yaml": _judged("x", "{name: j, task: '{{ nosuch }}'}")}),
    row("run-unknown-report-format", ["run", "s.yaml", "--format", "pdf"], 2,
        "unknown report format 'pdf'", {"s.yaml": _suite()}),
    row("run-unknown-backend", ["run", "s.yaml", "--backend", "nosuch"], 2,
        "unknown backend 'nosuch'", {"s.yaml": _suite()}),
    row("run-unknown-dtype", ["run", "s.yaml", "--dtype", "float8"], 2,
        "unknown dtype 'float8'", {"s.yaml": _suite()}),
    row("run-batch-size-zero", ["run", "s.yaml", "--batch-size", "0"], 2,
        "--batch-size", {"s.yaml": _suite()}),
    # -- the terminal: markup, escapes and bidi controls are shown, not acted on --------------
    row("score-group-markup-and-escapes", ["score", "t.jsonl", "--metrics", "length_words"], 0,
        f"{MARKUP} {LINK}", {"t.jsonl": _groups(EVIL_TERM, "plain")}),
    row("score-unknown-metric-markup", ["score", "t.jsonl", "--metrics", "[/]x"], 2,
        "unknown metric '[/]x'", {"t.jsonl": LINES}),
    row("score-unknown-metric-escape", ["score", "t.jsonl", "--metrics", "a\x1b[2Jb"], 2,
        "unknown metric 'a\\x1b[2Jb'", {"t.jsonl": LINES}),
    row("validate-path-markup", ["validate", "[red]s.yaml"], 0, "ok [red]s.yaml",
        {"[red]s.yaml": _suite()}),
    # -- reports are strict JSON: prices that would make a cost infinite are refused ----------
    row("validate-price-inf", ["validate", "s.yaml"], 2,
        "s.yaml:8:35: prices.served-model.output: Input should be a finite number",
        {"s.yaml": _priced(".inf")}),
    row("validate-price-nan", ["validate", "s.yaml"], 2, "should be a finite number",
        {"s.yaml": _priced(".nan")}),
    row("validate-price-1e308", ["validate", "s.yaml"], 2,
        "prices.served-model.output: Input should be less than or equal to 1000000000",
        {"s.yaml": _priced("1e308")}),
    row("run-priced-json-report", ["run", "s.yaml", "--format", "json"], 0, "4 generated",
        {"s.yaml": _priced("1e9")}),
]


# -- stores of earlier releases, rating sheets, --limit (issue 22) ---------------------------
DATA = Path(__file__).parent / "data"


def _v0_store() -> bytes:
    """store_v1 as the release before per-input set scores left it: no ``input_scores``
    (set-level values pooled per cell in ``cell_scores``)."""
    import shutil
    import sqlite3
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.sqlite"
        shutil.copy(DATA / "store_v1.sqlite", path)
        con = sqlite3.connect(path)
        with con:
            con.execute("INSERT INTO cell_scores SELECT run_id, cell, metric, AVG(value) FROM"
                        " input_scores GROUP BY run_id, cell, metric")
            con.execute("DROP TABLE input_scores")
        con.execute("PRAGMA journal_mode=DELETE")
        con.close()
        return path.read_bytes()


def _v3_sheet() -> tuple[str, list[str]]:
    """The rating sheet of store_v3 and its item ids."""
    import sqlite3

    con = sqlite3.connect(f"{(DATA / 'store_v3.sqlite').as_uri()}?mode=ro", uri=True)
    try:
        (sheet,) = con.execute("SELECT id FROM rating_sheets WHERE kind='rating'").fetchone()
        items = [i for (i,) in con.execute("SELECT item_id FROM rating_items WHERE sheet_id=?"
                                           " ORDER BY position", (sheet,))]
    finally:
        con.close()
    return sheet, items


V0, V3 = _v0_store(), (DATA / "store_v3.sqlite").read_bytes()
SHEET, ITEMS = _v3_sheet()
RATE = ["rate", "import", "f.csv", "--store", "v3.sqlite"]


def _csv(header: str, cells) -> str:
    return header + "\n" + "".join(cells(i) + "\n" for i in ITEMS)


CASES += [
    row("report-store-before-input-scores", ["report", "latest", "--store", "old.sqlite"], 0,
        "distinct", {"old.sqlite": V0}),
    row("compare-store-before-input-scores", ["compare", "latest", "--store", "old.sqlite"],
        0, "paired", {"old.sqlite": V0}),
    row("baseline-store-before-input-scores", ["baseline", "latest", "-o", "b.json",
                                               "--store", "old.sqlite"], 0, "baseline of run",
        {"old.sqlite": V0}),
    row("report-v3-store-cached-rerun-shows-ratings", ["report", "latest", "--format", "md",
                                                       "--store", "v3.sqlite"], 0,
        "36 ratings of 18 items", {"v3.sqlite": V3}),
    row("rate-import-trailing-space-column-does-not-win", RATE, 0, "imported 12 ratings",
        {"v3.sqlite": V3, "f.csv": _csv("sheet,item,rating ,Rating,rating,rater",
                                        lambda i: f"{SHEET},{i},9,x,3,cy")}),
    row("rate-import-only-capitalized-rating", RATE, 2, "'Rating' differ in case",
        {"v3.sqlite": V3, "f.csv": _csv("sheet,item,Rating,rater",
                                        lambda i: f"{SHEET},{i},3,cy")}),
    row("rate-import-semicolons-in-a-column-name", RATE, 2,
        "row 2: rating '9' is off the scale 1-5",
        {"v3.sqlite": V3, "f.csv": _csv("n;;;;;;;;;;;;;;;;,sheet,item,rating,rater",
                                        lambda i: f"x,{SHEET},{i},"
                                                  f"{9 if i == ITEMS[0] else 2},cy")}),
    row("rate-import-semicolon-dialect", RATE, 2, "separates columns with semicolons",
        {"v3.sqlite": V3, "f.csv": _csv("sheet;item;rating;rater",
                                        lambda i: f"{SHEET};{i};3;cy")}),
    row("rate-import-text-longer-than-csv-field-limit", RATE, 0, "imported 12 ratings",
        {"v3.sqlite": V3, "f.csv": _csv("sheet,item,text,rating,rater",
                                        lambda i: f"{SHEET},{i},{'w ' * 70_000},3,cy")}),
    row("rate-import-jsonl-every-bad-row-at-once",
        ["rate", "import", "f.jsonl", "--store", "v3.sqlite"], 2, "3 bad rows",
        {"v3.sqlite": V3, "f.jsonl": "{oops\n" + json.dumps(
            {"sheet": SHEET, "item": ITEMS[0], "rating": "9", "rater": "cy"}) + "\n"
         + json.dumps({"sheet": SHEET, "item": "nope", "rating": "2", "rater": "cy"}) + "\n"}),
    row("run-limit-zero", ["run", "s.yaml", "--limit", "0"], 2,
        "--limit must be at least 1", {"s.yaml": _suite()}),
    row("run-limit-negative", ["run", "s.yaml", "--limit", "-1"], 2,
        "--limit must be at least 1", {"s.yaml": _suite()}),
    row("check-limit-zero", ["check", "s.yaml", "--limit", "0"], 2,
        "--limit must be at least 1", {"s.yaml": _suite()}),
]


@pytest.fixture(scope="module")
def server_url():
    srv = FakeServer(_answer)
    yield srv.url
    srv.close()


@pytest.mark.parametrize("args, files, code, says, markdown", CASES)
def test_hostile_input(tmp_path: Path, server_url: str, args: list[str],
                       files: dict[str, Any], code: int, says: str, markdown: bool) -> None:
    for name, content in files.items():
        path = tmp_path / name
        if content is DIR:
            path.mkdir()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content.replace("{url}", server_url), encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True,
                          text=True, errors="replace", cwd=tmp_path, env=env, timeout=300)
    shown = f"exit {proc.returncode}\nstdout:\n{proc.stdout[-2000:]}\nstderr:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, shown
    assert proc.returncode == code, shown
    assert says in proc.stdout + proc.stderr, shown
    if code != 0:
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, shown
    # not a terminal: rich writes no styles, so any escape or BEL came from the input
    assert not re.search("[\x1b\x07\x9b]", proc.stdout + proc.stderr), shown
    assert not BIDI.search(proc.stdout + proc.stderr), shown
    for report in tmp_path.glob("reports/*.json"):
        json.loads(report.read_text("utf-8"), parse_constant=_no_constant)
    if markdown:
        html = _render_markdown(proc.stdout)
        for tag in ("<img", "<a ", "<b>"):
            assert tag not in html, f"{tag} in the rendered Markdown\n{shown}"


def _no_constant(name: str) -> None:
    raise AssertionError(f"{name} in a JSON report (strict parsers reject it)")


def _render_markdown(text: str) -> str:
    """Render ``text`` as GitHub would (CommonMark with raw HTML allowed, tables,
    strikethrough)."""
    markdown_it = pytest.importorskip("markdown_it")
    md = markdown_it.MarkdownIt("commonmark", {"html": True})
    return md.enable(["table", "strikethrough"]).render(text)


# -- Markdown: nothing from a suite or a model is active -------------------------------------

MD_PAYLOADS = [EVIL_IMG, "[click](http://evil/)", "<img src=x>", "<b>bold</b>",
               "`code` and ``more``", "*em* _em_ ~~del~~ $x^2$", "a | b", "line\nbreak\r# h",
               "&lt;entity&gt; &amp;", "back\\slash \\", "nul\x00 esc\x1b"]


def _hostile_summary() -> dict[str, Any]:
    s = make_summary()
    payload = " ".join(MD_PAYLOADS)
    s["run"].update(suite=payload, model=payload, backend=payload, id="`" + payload)
    for cell in s["cells"]:
        cell["cell"] = payload + " " + cell["cell"]
    s["pareto"]["cells"] = [c["cell"] for c in s["cells"][:2]]
    s["pareto"]["within_noise"] = [s["cells"][3]["cell"]]
    s["checks"][0].update(cell=payload, check=payload, reason=payload)
    s["metrics"]["distinct_2"]["description"] = payload
    return s


def test_esc_makes_suite_strings_inert_markdown() -> None:
    from harness.report.format import md_escape as _esc

    assert _esc(EVIL_IMG) == r"\!\[x\]\(http://evil/img\)"
    assert _esc("<b>a|b</b>") == r"\<b\>a\|b\</b\>"
    assert _esc("a\nb\r\nc\x00") == "a b  c\ufffd"
    # a code span's fence is longer than any run of backticks in it
    assert _esc("a`b``c", code=True) == "```a`b``c```"
    assert _esc("`x`", code=True) == "`` `x` ``"
    assert _esc("<img src=x>", code=True) == "`<img src=x>`"
    assert _esc("", code=True) == "` `"


def test_markdown_report_renders_no_image_link_or_html_from_strings() -> None:
    from harness.report.markdown import render_markdown

    text = render_markdown(_hostile_summary())
    assert "\x00" not in text and "\x1b" not in text
    html = _render_markdown(text)
    for tag in ("<img", "<a ", "<b>", "<em>", "<s>", "<del>", "<h1>h"):
        assert tag not in html, tag
    assert html.count("<h1>") == 1
    # the payloads are still shown, as text
    assert html.count("![x](http://evil/img)") >= 6
    assert "&lt;img src=x&gt;" in html and "&amp;lt;entity&amp;gt;" in html
    # a `|` or a line break in a cell id neither adds a column nor ends the row
    cells_table = html.split("<h2>Cells")[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", cells_table, re.S)
    columns = rows[0].count("<th")
    assert columns >= 5
    for tr in rows[1:]:
        assert tr.count("<td") == columns
    assert len(re.findall(r"<tr>", cells_table)) == 7  # header + 6 cells


# -- HTML: control characters never reach the page ------------------------------------------

def test_html_escape_replaces_control_characters() -> None:
    from harness.report.html_escape import escape, highlight_overlaps

    assert escape("a\x00b\x1b[0m\x7f\x85c") == "a\ufffdb\ufffd[0m\ufffd\ufffdc"
    assert escape("tab\tnl\ncr\r<&>\"'") == "tab\tnl\ncr\r&lt;&amp;&gt;&quot;&#x27;"
    assert escape("lone \ud800") == "lone \ufffd"
    assert escape(42) == "42"
    # one character for one: overlap ranges computed on the raw text still line up
    assert highlight_overlaps("a\x00bc", [[1, 3]]) == \
        'a<mark title="copied verbatim">\ufffdb</mark>c'


def test_html_report_has_no_control_characters_from_model_text() -> None:
    from harness.report.html import render_html

    s = make_summary()
    s["samples"][0]["overlaps"] = None
    s["samples"][0]["text"] = "nul\x00 bell\x07 esc\x1b[31m del\x7f c1\x9b lone\ud800 ok\tok\n"
    s["samples"][0]["messages"][0]["content"] = "sys\x00tem"
    s["run"]["model"] = "m\x00del"
    page = render_html(s)
    page.encode("utf-8")  # writable: no lone surrogate left
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", page)
    assert "nul\ufffd bell\ufffd esc\ufffd[31m del\ufffd c1\ufffd lone\ufffd ok\tok" in page
    assert "sys\ufffdtem" in page and "m\ufffddel" in page


# -- the openai backend: odd replies ---------------------------------------------------------

def _reply(**changes):
    """A script that answers every request with a completion, changed by ``changes``."""
    def script(body, attempt):
        reply = completion(body, "answer to " + prompt_id(body))
        choice = reply["choices"][0]
        for key, value in changes.items():
            if key == "content":
                choice["message"]["content"] = value
            else:
                reply[key] = value
        return ("json", reply)
    return script


@pytest.mark.parametrize("content", [None, 42, ["a"], {"text": "a"}])
def test_content_null_or_not_text_is_a_failed_request(serve, content) -> None:
    from harness.backends.base import BackendError

    srv = serve(_reply(content=content))
    with pytest.raises(BackendError, match="malformed response") as err:
        list(backend(srv.url, max_retries=2).generate(make_requests(2)))
    assert "2 of 2" in str(err.value)
    assert srv.attempts["p0"] == 3  # malformed: retried like a garbled body


def test_content_null_then_text_succeeds_on_retry(serve) -> None:
    ok, bad = _reply(), _reply(content=None)
    srv = serve(lambda body, attempt: bad(body, attempt) if attempt == 0 else ok(body, attempt))
    gens = list(backend(srv.url).generate(make_requests(1)))
    assert [g.text for g in gens] == ["answer to p0"] and gens[0].extra["attempts"] == 2


def test_empty_string_content_is_an_empty_generation(serve) -> None:
    srv = serve(_reply(content=""))
    gens = list(backend(srv.url).generate(make_requests(1)))
    assert [g.text for g in gens] == [""] and srv.attempts["p0"] == 1


@pytest.mark.parametrize("usage, tokens", [
    ({"prompt_tokens": "x", "completion_tokens": 3}, (0, 3)),
    ({"prompt_tokens": 7, "completion_tokens": [1]}, (7, 0)),
    ({"prompt_tokens": True, "completion_tokens": None}, (0, 0)),
    ({"prompt_tokens": -5, "completion_tokens": 4.0}, (0, 4)),
    ({"prompt_tokens": 1e400, "completion_tokens": "12"}, (0, 0)),  # inf
    # beyond what SQLite can hold or sum (2**63), or any request can count (10**9)
    ({"prompt_tokens": 2**70, "completion_tokens": 1e308}, (0, 0)),
    ({"prompt_tokens": 2**62, "completion_tokens": 10**9 + 1}, (0, 0)),
    ({"prompt_tokens": 10**9, "completion_tokens": 4.5}, (10**9, 0)),  # not whole
    ({"prompt_tokens": float("nan"), "completion_tokens": False}, (0, 0)),
    ("lots", (0, 0)),
    (None, (0, 0)),
])
def test_bad_usage_numbers_keep_the_reply_with_zero_counts(serve, usage, tokens) -> None:
    srv = serve(_reply(usage=usage))
    gens = list(backend(srv.url).generate(make_requests(1)))
    assert [g.text for g in gens] == ["answer to p0"]
    assert (gens[0].prompt_tokens, gens[0].completion_tokens) == tokens
    assert srv.attempts["p0"] == 1  # kept, not retried or discarded


def test_lone_surrogate_in_reply_becomes_replacement_character(serve) -> None:
    srv = serve(_reply(content="a \ud800 b \ud83d\ude00"))
    gens = list(backend(srv.url).generate(make_requests(1)))
    assert gens[0].text == "a \ufffd b \U0001f600"
    gens[0].text.encode("utf-8")


@pytest.mark.parametrize("reply", [
    {"content": None, "refusal": "I can't help with that."},
    {"content": 42}, {"role": "assistant"},  # no text at all
])
def test_a_judge_call_takes_a_reply_without_text_as_an_empty_answer(serve, reply) -> None:
    """A judge's call (``no_text_ok``) stores a refusal as an empty, unreadable answer once
    its retries are spent; a generation fails on the same reply (above)."""
    from dataclasses import replace

    def script(body, attempt):
        answer = completion(body, "x")
        answer["choices"][0]["message"] = dict(reply)
        return ("json", answer)

    srv = serve(script)
    reqs = [replace(r, no_text_ok=True) for r in make_requests(2)]
    gens = list(backend(srv.url, max_retries=1).generate(reqs))
    assert sorted((g.key, g.text, g.finish_reason) for g in gens) == [
        (r.key, "", "refused") for r in reqs]
    assert gens[0].prompt_tokens == 7  # the reply's usage is kept
    assert srv.attempts["p0"] == 2  # retried first: a refusal may be a fluke


def test_reply_bytes_that_are_not_utf8_become_replacement_characters(serve) -> None:
    def script(body, attempt):
        raw = json.dumps(completion(body, "Score: 7 @")).encode()
        return ("raw", raw.replace(b"@", b"\xff\xfe\xc3"))

    srv = serve(script)
    gens = list(backend(srv.url).generate(make_requests(1)))
    assert gens[0].text == "Score: 7 \ufffd\ufffd\ufffd" and srv.attempts["p0"] == 1


# -- the terminal: suite, model and rater strings are shown, never acted on ------------------

# a suite whose prompt id, model name and check carry markup, escapes and a bidi override;
# the prompt id becomes a cell id shown by run, runs, compare, check and the rating tables
EVIL_SUITE = """\
name: evil
model: "m[/]odel \\e]8;;https://evil.example/\\e\\\\x\\e]8;;\\e\\\\ \\u202e"
backend: openai
server: {{base_url: "{url}", max_retries: 1, timeout: 10}}
samples: 2
prompts:
  - {{id: "p[/]x [link=https://evil.example/]alice[/link] \\e]0;pwned\\a\\e[2J \\u202egnp",
     template: "Say {{{{ topic }}}}."}}
  - {{id: "q[bold]", template: "Tell {{{{ topic }}}}."}}
inputs: [{{id: a, topic: one}}, {{id: b, topic: two}}, {{id: c, topic: three}}]
metrics: [distinct_2, length_words]
checks: ["length_words >= 0"]
"""
# what rich itself sends a terminal: colours, and the progress bar's hide/show cursor, erase
# line and cursor up; never a screen clear (ESC[2J) or an OSC (ESC]: title, hyperlink)
RICH_CODES = re.compile(r"\x1b\[(?:[0-9;]*m|\?25[lh]|2K|[0-9]*[AG])")


def _cli(cwd: Path, *args: str, color: bool = True) -> subprocess.CompletedProcess:
    """The CLI with rich forced to act as on a terminal (colours on)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "300"}
    if color:
        env["FORCE_COLOR"] = "1"
    env.pop("NO_COLOR", None)
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True,
                          text=True, errors="replace", cwd=cwd, env=env, timeout=300)


def _inert(proc: subprocess.CompletedProcess, code: int = 0) -> str:
    """Assert the exit code, no traceback, and nothing but rich's own codes for the terminal
    to act on; return stdout and stderr without them."""
    shown = f"exit {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr}"
    assert proc.returncode == code, shown
    assert "Traceback" not in proc.stderr, shown
    text = RICH_CODES.sub("", proc.stdout + proc.stderr)
    assert not re.search("[\x1b\x07\x9b]", text), shown  # no OSC (title, link), no clear
    assert not BIDI.search(text), shown
    return text


def test_suite_strings_reach_the_terminal_inert(tmp_path: Path, server_url: str) -> None:
    (tmp_path / "s.yaml").write_text(EVIL_SUITE.format(url=server_url), encoding="utf-8")
    shown = _inert(_cli(tmp_path, "run", "s.yaml"))
    # the strings are shown as typed (rich markup and all), with the controls replaced
    assert "p[/]x [link=https://evil.example/]alice[/link] \ufffd]0;pwned\ufffd\ufffd[2J" \
        in shown and "q[bold]" in shown
    assert "gnp" in shown and "12 generated" in shown
    assert (tmp_path / "reports" / "evil-latest.md").exists()
    runs = _inert(_cli(tmp_path, "runs"))
    assert "m[/]odel" in runs
    compare = _inert(_cli(tmp_path, "compare", "latest"))
    # a title may wrap at a space: compare the words, not the line breaks
    assert "p[/]x [link=https://evil.example/]alice[/link]" in " ".join(compare.split())
    check = _inert(_cli(tmp_path, "check", "s.yaml"))
    assert "checks passed" in check and "q[bold]" in check
    report = _inert(_cli(tmp_path, "report", "latest", "--format", "md"))
    assert "alice" in report
    export = _inert(_cli(tmp_path, "export", "latest"))
    rows = [json.loads(line) for line in export.splitlines()]
    assert any(RLO in r["variant"] and "\x1b" in r["variant"] for r in rows)  # data kept


def test_rater_names_reach_the_terminal_inert(tmp_path: Path, server_url: str) -> None:
    import csv

    (tmp_path / "s.yaml").write_text(EVIL_SUITE.format(url=server_url), encoding="utf-8")
    _inert(_cli(tmp_path, "run", "s.yaml", "--format", "json"))
    _inert(_cli(tmp_path, "rate", "export", "--out", "sheet"))
    with open(tmp_path / "sheet.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    raters = [LINK, f"bob{ANSI}{RLO}", "carol [/]"]
    for i, r in enumerate(rows):
        r["rating"], r["rater"] = str(1 + i % 5), raters[i % 3]
    with open(tmp_path / "filled.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    shown = _inert(_cli(tmp_path, "rate", "import", "filled.csv"))
    assert LINK in shown and "carol [/]" in shown and "bob\ufffd]0;pwned" in shown
    assert f"imported {len(rows)} ratings from 3 raters" in shown


# -- exit codes: a bug is an internal error (4), never "check failed" (1) or "bad input" (2) -

def _patched_cli(cwd: Path, patch: str, *args: str) -> subprocess.CompletedProcess:
    """Run the CLI's ``main`` with ``patch`` (Python) applied first."""
    code = (f"import sys\n{patch}\nfrom harness.cli.app import main\n"
            f"sys.argv = {['harness', *args]!r}\nmain()\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300)


BUGS = {
    # a lookup that went wrong in the code: once "bad input, exit 2" without a traceback
    "key-error": "def bug(*a, **k):\n    return {}['x']\n",
    "type-error": "def bug(*a, **k):\n    return None + 1\n",
    # SQL the code got wrong (not a damaged store, nor a file that is not a store)
    "sql-error": "def bug(*a, **k):\n    import sqlite3\n"
                 "    sqlite3.connect(':memory:').execute('SELEC 1')\n",
}


# where the bug is planted, and the command that runs into it: a library function the
# command calls (score), and the API facade the CLI calls (compare, check)
PLANTED = {
    "score": ("harness.metrics.scoring", "score_file", ["score", "t.jsonl"]),
    "compare": ("harness.api", "compare", ["compare", "rep.json"]),
    "check": ("harness.stats.gate", "gate", ["check", "s.yaml", "--store", "s.sqlite"]),
}


@pytest.mark.parametrize(("bug", "command"),
                         [(b, "score") for b in sorted(BUGS)]
                         + [("key-error", "compare"), ("key-error", "check")])
def test_an_internal_error_is_exit_4_with_traceback_and_bug_report(tmp_path, server_url, bug,
                                                                    command) -> None:
    """A bug anywhere under a command, a ``KeyError`` included, is exit 4 with its
    traceback: only the library's ``InputError`` family is bad input (exit 2)."""
    (tmp_path / "t.jsonl").write_text(LINES, encoding="utf-8")
    (tmp_path / "rep.json").write_text(_report_json(), encoding="utf-8")
    (tmp_path / "s.yaml").write_text(_suite().replace("{url}", server_url), encoding="utf-8")
    module, name, args = PLANTED[command]
    patch = BUGS[bug] + f"import {module}\n{module}.{name} = bug\n"
    proc = _patched_cli(tmp_path, patch, *args)
    shown = f"exit {proc.returncode}\nstderr:\n{proc.stderr}"
    assert proc.returncode == 4, shown
    assert "Traceback (most recent call last)" in proc.stderr and "in bug" in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "internal error" in errors[0], shown
    assert "bug in harness" in proc.stderr and "please report it" in proc.stderr


def test_an_internal_error_outside_a_command_body_is_exit_4(tmp_path) -> None:
    """Raised while a command imports the library, before its error handling starts."""
    (tmp_path / "rep.json").write_text(_report_json(), encoding="utf-8")
    patch = ("import harness.report.compare\n"
             "class Boom:\n"
             "    def __getattr__(self, name):\n"
             "        raise RuntimeError('half-installed')\n"
             "sys.modules['harness.report.compare'] = Boom()\n")
    proc = _patched_cli(tmp_path, patch, "compare", "rep.json")
    assert proc.returncode == 4, proc.stderr
    assert "half-installed" in proc.stderr and "please report it" in proc.stderr


def test_an_interrupt_is_exit_130_and_says_what_is_kept(tmp_path) -> None:
    (tmp_path / "t.jsonl").write_text(LINES, encoding="utf-8")
    patch = ("def stop(*a, **k):\n    raise KeyboardInterrupt\n"
             "import harness.metrics.scoring\nharness.metrics.scoring.score_file = stop\n")
    proc = _patched_cli(tmp_path, patch, "score", "t.jsonl")
    assert proc.returncode == 130, proc.stderr
    assert "interrupted" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("delay", [0.3, 1.0])
def test_ctrl_c_while_the_command_starts_is_130_not_1(tmp_path, delay) -> None:
    """A real SIGINT while the CLI is still importing (before any ``_errors`` block): never
    click's "Aborted!" with exit 1, which CI would read as a failed check."""
    import signal

    # enough texts that the command is still busy when the signal comes (a short file is
    # scored and done in about half a second)
    (tmp_path / "t.jsonl").write_text("".join(
        f'{{"text": "the cat {i} sat on the mat {7 * i}"}}\n' for i in range(40_000)),
        encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "score", "t.jsonl"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode in (130, -signal.SIGINT), stderr
    assert "Aborted" not in stderr
    if delay >= 1.0:  # past Python's own start-up (~0.15 s here): the CLI's quiet exit
        assert "Traceback" not in stderr


@pytest.mark.parametrize("value", ["0", "-3"])
def test_runs_limit_below_one_is_one_line_and_exit_2(tmp_path, value) -> None:
    proc = _cli(tmp_path, "runs", "--limit", value, "--store", "none.sqlite", color=False)
    assert proc.returncode == 2, proc.stderr
    assert f"error: --limit must be at least 1 (the number of runs to list), not {value}" \
        in proc.stderr and "Usage" not in proc.stderr and "Traceback" not in proc.stderr


def test_readme_documents_every_exit_code() -> None:
    from harness.cli import app as cli
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    para = readme[readme.index("Exit codes:"):].split("\n\n")[0]
    for code in (0, cli.EXIT_CHECKS, cli.EXIT_INPUT, cli.EXIT_RUN, cli.EXIT_INTERNAL,
                 cli.EXIT_INTERRUPTED):
        assert re.search(rf"\b{code}\b", para), code
    assert "bug" in para


# -- terminal, Markdown and JSON escaping: unit tests ----------------------------------------

TERM_PAYLOADS = [MARKUP, LINK, ANSI, RLO + "abc", "a\\", "a\\[b]", "\\[/]", "x [bold]y",
                 "[", "]", "[#fff]c", "[@click]d", ":skull: e", "tab\tnl\ncr\r", "nul\x00",
                 "c1\x9b[2J", "lone \ud800", "\u2066iso\u2069 \u200fmark", "plain"]


@pytest.mark.parametrize("payload", TERM_PAYLOADS)
def test_safe_text_renders_exactly_its_inert_characters(payload: str) -> None:
    from rich.console import Console

    from harness.text import one_line, safe

    console = Console(width=200, force_terminal=True, emoji=False, color_system=None)
    with console.capture() as cap:
        console.print(safe(payload), end="")
        console.print(safe(payload) + " [red]after[/red]", end="")
    expected = one_line(payload)
    assert cap.get() == expected + expected + " after"
    assert not re.search("[\x00-\x1f\x7f-\x9f\ud800-\udfff]", expected)
    assert not BIDI.search(expected)


def test_markdown_drops_bidi_controls() -> None:
    from harness.report.markdown import render_markdown

    s = _hostile_summary()
    s["run"]["model"] = f"{RLO}evil\u2066x\u2069\u200f"
    s["cells"][0]["cell"] = f"{RLO}gnp.exe"
    text = render_markdown(s)
    assert not BIDI.search(text) and "gnp.exe" in text and "evilx" in text


def test_json_writer_is_strict_and_escapes_what_a_terminal_acts_on() -> None:
    from harness.jsonout import dumps
    from harness.report import render

    s = make_summary()
    s["cells"][0]["metrics"]["distinct_2"].update(mean=float("nan"), hi=float("inf"))
    s["usage"] = {"total": {"cost": float("inf")}, "rows": {"x": {"cost": -float("inf")}}}
    s["run"]["model"] = f"m{RLO}\x9b2J\x1b\ud800"
    text = render(s, "json")
    data = json.loads(text, parse_constant=_no_constant)
    metric = data["cells"][0]["metrics"]["distinct_2"]
    assert metric["mean"] is None and metric["hi"] is None and metric["lo"] is not None
    assert data["usage"]["total"]["cost"] is None and data["usage"]["rows"]["x"]["cost"] is None
    assert data["run"]["model"] == f"m{RLO}\x9b2J\x1b\ud800"  # the value reads back
    assert not re.search(f"[\x1b\x9b{RLO}\ud800]", text)  # but the text shows it escaped
    text.encode("utf-8")
    assert json.loads(dumps({"n": 10 ** 30, "t": (1.5, float("nan"))})) == \
        {"n": 10 ** 30, "t": [1.5, None]}
