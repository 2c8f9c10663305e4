"""Hostile input: every row runs the real CLI on one bad (or odd but valid) input and expects
the documented exit code (0 ok, 1 check failed, 2 bad input, 3 the backend failed), a
fragment of the message, exactly one ``error:`` line for a failure, and never a traceback.
Then unit tests of the fixes behind some rows: Markdown and HTML escaping of suite and model
strings, and the openai backend's reading of odd replies.

Rows marked xfail (strict) are known failures in code outside this file's scope; they turn
into errors ("XPASS(strict)") as soon as that code is fixed, so the mark gets removed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
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


def _answer(body: dict, attempt: int) -> tuple:
    """The fake server: a reply per topic keyword, else text with markup and a NUL."""
    pid = prompt_id(body)
    reply = completion(body, f"answer to {pid} {EVIL_IMG} {EVIL_HTML} \x00")
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
    row("run-unknown-report-format", ["run", "s.yaml", "--format", "pdf"], 2,
        "unknown report format 'pdf'", {"s.yaml": _suite()}),
    row("run-unknown-backend", ["run", "s.yaml", "--backend", "nosuch"], 2,
        "unknown backend 'nosuch'", {"s.yaml": _suite()}),
    row("run-unknown-dtype", ["run", "s.yaml", "--dtype", "float8"], 2,
        "unknown dtype 'float8'", {"s.yaml": _suite()}),
    row("run-batch-size-zero", ["run", "s.yaml", "--batch-size", "0"], 2,
        "--batch-size", {"s.yaml": _suite()}),
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
    if markdown:
        html = _render_markdown(proc.stdout)
        for tag in ("<img", "<a ", "<b>"):
            assert tag not in html, f"{tag} in the rendered Markdown\n{shown}"


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
    for tr in re.findall(r"<tr>(.*?)</tr>", cells_table, re.S)[1:]:
        assert tr.count("<td>") == 5
    assert len(re.findall(r"<tr>", cells_table)) == 7  # header + 6 cells


# -- HTML: control characters never reach the page ------------------------------------------

def test_html_escape_replaces_control_characters() -> None:
    from harness.report.html import escape, highlight_overlaps

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
