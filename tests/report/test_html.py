"""The self-contained HTML report: escaping, overlaps, Pareto listing, no network; and the
real thing in headless Chromium (driven by Playwright) with an XSS payload and Chinese text."""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.report.html import render_html
from harness.report.html_escape import highlight_overlaps, script_json

PAYLOAD = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
CHINESE = "春风又绿江南岸，明月何时照我还。"
EVIL_VARIANT = '"><b onmouseover=alert(2)>v</b>'
EVIL_INPUT = "</script><script>alert(3)</script>"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _metric(mean: float, spread: float = 0.0) -> dict[str, Any]:
    """A cell metric over 4 inputs whose values differ by ±1.5% around ``mean``."""
    inputs = {f"in{j}": mean * (1 + 0.01 * (j - 1.5)) for j in range(4)}
    return {"mean": mean, "lo": mean - spread, "hi": mean + spread, "n": 8, "n_inputs": 4,
            "method": "bootstrap-t over inputs", "inputs": inputs}


def make_summary() -> dict[str, Any]:
    """Return a small summary: 2 variants × 3 temperatures, samples with a payload, Chinese
    text and overlaps, one failed and one passed check."""
    metrics = {
        "distinct_2": {"kind": "set", "higher_is": "diverse", "description": "unique 2-grams",
                       "source": "Li et al. 2016"},
        "perplexity": {"kind": "sample", "higher_is": "worse", "description": "exp(mean NLL)",
                       "source": "Jelinek et al. 1977"},
        "length_words": {"kind": "sample", "higher_is": None, "description": "<b>words</b>",
                         "source": ""},
    }
    cells, samples = [], []
    for variant, base in (("plain", 1.0), (EVIL_VARIANT, 1.5)):
        for t, (d2, ppl) in zip((0.3, 0.7, 1.3), ((0.3, 2.0), (0.7, 5.0), (0.99, 900.0)),
                                strict=True):
            cid = f"{variant}|temperature={t}"
            cells.append({"cell": cid, "variant": variant, "grid": {"temperature": t}, "n": 2,
                          "metrics": {"distinct_2": _metric(d2 / base, 0.01),
                                      "perplexity": _metric(ppl * base, ppl * 0.3),
                                      "length_words": _metric(40.0, 3.0)}})
            for i, (input_id, text, overlaps) in enumerate((
                    ("spring", f"Roses are red {PAYLOAD} and & so on", [[0, 5], [14, 22]]),
                    (EVIL_INPUT if variant == "plain" else "chun", CHINESE, [[0, 4]]))):
                samples.append({
                    "key": f"{cid}-{i}", "cell": cid, "variant": variant, "input_id": input_id,
                    "grid": {"temperature": t}, "sample_index": i,
                    "messages": [{"role": "system", "content": "You are a <poet>."},
                                 {"role": "user", "content": f"Write about {input_id}"}],
                    "text": text, "overlaps": overlaps, "finish_reason": "stop",
                    "completion_tokens": 12, "scores": {"perplexity": ppl, "length_words": 9}})
    frontier = [c["cell"] for c in cells if c["variant"] == "plain"]
    cells[0]["metrics"]["length_words"].update(lo=None, hi=None, method="no interval: one value")
    from harness.summarize.build import add_derived

    return add_derived({
        "schema_version": 2,
        "run": {"id": "20260101-000000-abcd", "suite": "po<em>etry", "model": "m&m",
                "backend": "hf", "n_requests": len(samples), "harness_version": "0.1.0",
                "git_commit": "0123456789abcdef", "started_at": 1.7e9, "finished_at": 1.7e9 + 3,
                "status": "done", "suite_path": "suites/poetry.yaml"},
        "metrics": metrics, "cells": cells,
        "pareto": {"x": "distinct_2", "y": "perplexity", "cells": frontier,
                   "within_noise": [cells[3]["cell"]]},
        "samples": samples,
        "checks": [
            {"check": "perplexity <= 50", "cell": cells[2]["cell"], "value": 900.0,
             "baseline": None, "passed": False, "reason": "900 violates <= 50"},
            {"check": "perplexity <= 5000", "cell": cells[0]["cell"], "value": 2.0,
             "baseline": None, "passed": True, "reason": ""}],
    })


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(make_summary())


# -- the markup ---------------------------------------------------------------------------

def test_model_and_suite_strings_are_escaped(html: str) -> None:
    assert PAYLOAD not in html
    assert "<img" not in html and "onerror=alert(1)>" not in html
    # (the sample's "<script>" is an overlap, so the escaped payload is split by a <mark>)
    assert "alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert EVIL_VARIANT not in html and "<b onmouseover" not in html
    assert "po&lt;em&gt;etry" in html and "m&amp;m" in html
    assert "&lt;b&gt;words&lt;/b&gt;" in html  # metric descriptions too
    # only the page's own two scripts: the JSON index and the code
    assert html.count("<script") == 2 and html.count("</script>") == 2


def test_script_json_cannot_break_out() -> None:
    text = script_json({"a": EVIL_INPUT, "b": "x & y > z", "c": "\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert "\\u003c/script\\u003e" in text


def test_overlaps_are_highlighted_on_raw_text_then_escaped(html: str) -> None:
    # overlapping and unsorted ranges merge; each piece is escaped on its own
    assert highlight_overlaps("a<b>c&d", [[3, 5], [1, 4]]) == \
        'a<mark title="copied verbatim">&lt;b&gt;c</mark>&amp;d'
    assert highlight_overlaps("abc", [[-3, 1], [2, 99], [2, 2]]) == \
        '<mark title="copied verbatim">a</mark>b<mark title="copied verbatim">c</mark>'
    assert highlight_overlaps("abc", None) == "abc"
    assert '<mark title="copied verbatim">Roses</mark> are red ' \
        '<mark title="copied verbatim">&lt;script&gt;</mark>alert(1)' in html
    assert f'<mark title="copied verbatim">{CHINESE[:4]}</mark>{CHINESE[4:]}' in html


def test_pareto_cells_listed_and_plot_axes_labelled(html: str) -> None:
    listed = re.search(r'<div id="pareto-cells">(.*?)</div>', html).group(1)
    for t in (0.3, 0.7, 1.3):
        assert f"plain|temperature={t}" in listed
    assert "1.5|temperature" not in listed
    assert 'class="chart tradeoff"' in html
    # perplexity spans 2..1350: log scale, and the direction is spelled out
    assert "perplexity (lower = more coherent) (log scale)" in html
    assert "distinct_2 (higher = more diverse)" in html
    assert html.count('class="chart sweep"') == 4  # 2 variants × (diversity, coherence)


def test_tables_and_failed_checks_first(html: str) -> None:
    assert html.count('<table class="metric"') == 3
    assert html.index('id="checks"') < html.index('id="tradeoff"')
    checks = html[html.index('id="checks"'):html.index("</section>", html.index('id="checks"'))]
    assert "1 of 2 checks failed" in checks
    assert checks.index("900 violates") < checks.index("perplexity &lt;= 5000")


def test_intervals_ties_and_paired_comparisons(html: str) -> None:
    tables = html[html.index('id="tables"'):html.index('id="comparisons"')]
    d2 = tables[tables.index('data-metric="distinct_2"'):]
    assert "0.3 [0.29, 0.31]" in d2  # a set-level metric has its interval
    assert "40 (no CI)" in tables  # and a missing interval says so, no zero-width CI
    assert 'class="num best"' in d2  # distinct_2: plain's intervals clear the other's
    ppl = tables[tables.index('data-metric="perplexity"'):]
    assert 'class="num tied"' in ppl  # perplexity 2.0±0.6 vs 3.0±0.9: overlapping
    assert "tied for best" in tables and "4 inputs" in tables
    comp = html[html.index('id="comparisons"'):html.index('id="browser"')]
    assert "Benjamini–Hochberg" in comp and 'class="compare"' in comp
    # each evil-variant cell vs plain: 3 grid points × 3 metrics; consistent input-level
    # differences on distinct_2 and perplexity are significant, length_words does not move
    shown, every = comp.split('id="all-comparisons"')
    assert shown.count("<tr") == 1 + 6 and shown.count('class="sig"') == 6
    assert every.count("<tr") == 1 + 9 and every.count('class="sig"') == 6
    assert "A better" in comp and "Within noise of it" in html


def test_sweep_skipped_without_temperature() -> None:
    summary = make_summary()
    for item in summary["cells"] + summary["samples"]:
        item["grid"] = {"top_p": item["grid"]["temperature"]}
    out = render_html(summary)
    assert "Skipped: no temperature in the sampling grid" in out
    assert 'class="chart sweep"' not in out


def test_report_is_offline(html: str) -> None:
    assert "<link" not in html.lower()
    assert "http://" not in html and "https://" not in html
    assert "@import" not in html and "url(" not in html
    for src in re.findall(r"""<[a-zA-Z][^<>]*?\s(?:src|href)\s*=\s*["']?([^"'\s>]*)""",
                          html):
        assert src.startswith("data:"), src
    assert "default-src 'none'" in html  # CSP: the browser refuses any fetch


def test_cjk_font_stack(html: str) -> None:
    assert '"Noto Sans CJK SC", "Noto Sans SC"' in html and "sans-serif" in html
    assert CHINESE[4:] in html  # unescaped CJK, as UTF-8
    assert '<meta charset="utf-8">' in html


def test_minimal_summary_renders() -> None:
    summary = copy.deepcopy(make_summary())
    summary.pop("checks")
    summary["samples"] = []
    summary["pareto"] = {"x": None, "y": None, "cells": []}
    out = render_html(summary)
    assert "No diversity/coherence metric pair to plot" in out
    assert 'id="checks"' not in out


# -- the real browser ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: apt-get install -y chromium fonts-noto-cjk")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="pip install playwright (no `playwright install`)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_report_in_chromium(browser, html: str, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    url = path.as_uri()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    console, errors, dialogs, requests = [], [], [], []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url, wait_until="load")
    page.wait_for_timeout(300)

    assert page.locator("svg.tradeoff circle").count() >= 6
    assert page.locator("table.metric").count() == 3
    assert page.locator("#comparisons table.compare tr.sig:visible").count() == 6
    assert page.locator("#all-comparisons tr:visible").count() == 0  # folded
    page.locator("#all-comparisons summary").click()
    assert page.locator("#all-comparisons tr:visible").count() == 10
    samples = page.locator("#samples .sample")
    assert samples.count() == 12
    # groups are folded but the first; a card names its cell and input
    assert page.locator("#samples .sample:visible").count() == 1
    header = page.locator("#samples .sample header").first.inner_text()
    assert "plain|temperature=0.3" in header and "input spring" in header
    page.locator("#open-all").click()
    assert page.locator("#samples .sample:visible").count() == 12
    texts = page.locator(".sample .text").all_inner_texts()
    assert any(PAYLOAD in t for t in texts)
    assert any(CHINESE in t for t in texts)
    assert page.locator("mark").count() >= 12

    page.select_option("#f-variant", EVIL_VARIANT)
    visible = page.locator("#samples .sample:visible")
    assert visible.count() == 6
    assert all(v == EVIL_VARIANT for v in
               visible.evaluate_all("els => els.map(e => e.dataset.variant)"))
    page.select_option("#f-input", "chun")
    assert page.locator("#samples .sample:visible").count() == 3
    assert page.locator("#sample-count").inner_text() == "3 of 12 samples shown"
    page.select_option("#f-variant", "")
    page.select_option("#f-input", EVIL_INPUT)
    assert page.locator("#samples .sample:visible").count() == 3

    # tabs: one metric table at a time, switching works
    assert page.locator("table.metric:visible").count() == 1
    page.locator(".tabs button").nth(1).click()
    assert page.locator("table.metric:visible").get_attribute("data-metric") == "perplexity"

    page.select_option("#f-input", "")
    assert page.locator("#samples .sample:visible").count() == 12
    # prompts are collapsed until opened, then shown as text
    first = page.locator("#samples .sample").first
    assert not first.locator(".msg").first.is_visible()
    first.locator("summary").click()
    assert first.locator(".msg").first.inner_text() == "system: You are a <poet>."
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert not dialogs, dialogs
    assert not errors, errors
    assert not console, console
    assert requests == [url], requests
    page.close()


def test_sweep_draws_one_line_per_other_grid_key() -> None:
    summary = make_summary()
    extra = copy.deepcopy(summary["cells"])
    for cell in extra:
        cell["grid"] = {**cell["grid"], "k": 2}
        cell["cell"] += "|k=2"
    summary["cells"] += extra
    out = render_html(summary)
    assert out.count('class="chart sweep"') == 4
    sweeps = out[out.index('id="sweeps"'):out.index('id="tables"')]
    assert "k=2" in sweeps and "default" in sweeps  # legend: the k=2 line and the plain one
    assert '<th>temperature=0.3, k=2</th>' in out


def test_scale_goes_log_past_one_and_a_half_decades() -> None:
    from harness.report.svg import make_scale

    assert not make_scale([1.0, 30.0], 0, 100).log
    log = make_scale([1.0, 40.0], 0, 100)
    assert log.log and log(1.0) < log(10.0) < log(40.0)
    assert all(log.lo <= t <= log.hi for t in log.ticks())
    assert not make_scale([-1.0, 1000.0], 0, 100).log  # never log with values <= 0
    flat = make_scale([2.0, 2.0], 0, 100)
    assert flat.lo < 2.0 < flat.hi


def _grouped_summary() -> dict[str, Any]:
    """make_summary plus two more samples of the first cell's first input: a near-copy of
    its first answer and a different answer (answer classes as the runner stores them)."""
    summary = copy.deepcopy(make_summary())
    for s in summary["samples"]:
        s["answer_class"] = 0
    first = summary["samples"][0]
    copy_of = {**copy.deepcopy(first), "key": "copy", "sample_index": 2,
               "text": "Roses are red, so on", "answer_class": 0}
    other = {**copy.deepcopy(first), "key": "other", "sample_index": 3,
             "text": "A different poem entirely", "answer_class": 1}
    summary["samples"][1:1] = [copy_of, other]
    return summary


def test_sample_browser_groups_near_duplicates() -> None:
    out = render_html(_grouped_summary())
    browser = out[out.index('id="browser"'):]
    assert browser.count('class="group"') == 12  # one per (cell, input)
    assert browser.count('class="group" data-variant') == 12
    assert browser.count(" open><summary>") == 1  # the first is open, the rest folded
    assert "2 distinct answers among 3 samples" in browser
    assert "1 distinct answer among 1 sample" in browser
    assert browser.count('<details class="copies">') == 1
    assert "1 more sample with the same answer" in browser


def test_grouped_browser_in_chromium(browser, tmp_path: Path) -> None:
    path = tmp_path / "grouped.html"
    path.write_text(render_html(_grouped_summary()), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    assert page.locator("#sample-count").inner_text() == "14 of 14 samples shown"
    group = page.locator("#samples .group").first
    assert "2 distinct answers among 3 samples" in group.locator("summary").first.inner_text()
    assert group.locator(".sample:visible").count() == 2  # the copy is folded
    group.locator("details.copies > summary").click()
    assert group.locator(".sample:visible").count() == 3
    assert "Roses are red, so on" in group.locator("details.copies .text").inner_text()
    page.select_option("#f-input", "chun")
    assert page.locator("#sample-count").inner_text() == "3 of 14 samples shown"
    assert not errors, errors
    page.close()


def test_coincident_frontier_points_are_drawn_apart() -> None:
    """Two frontier cells at the same values (the slogans run had two rings for three
    cells): each gets its own marker and ring, off the shared spot by a grey line."""
    from harness.report.svg import DODGE_PX, Point, Series, chart, dodge

    offsets = dodge([(100.0, 100.0), (100.0, 100.0), (103.0, 101.0), (300.0, 50.0)])
    assert (300.0, 50.0) not in offsets
    spots = [(100 + dx, 100 + dy) for dx, dy in offsets[(100.0, 100.0)]]
    spots += [(103 + dx, 101 + dy) for dx, dy in offsets[(103.0, 101.0)]]
    assert len(spots) == 3
    assert min(math.dist(a, b) for a in spots for b in spots if a != b) > DODGE_PX
    svg = chart([Series("a", "#000", [Point(0.5, 2.0, ring=True), Point(0.5, 2.0, ring=True),
                                      Point(0.9, 9.0, hollow=True)])], "x", "y")
    rings = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="9"', svg)
    assert len(set(rings)) == 2  # two rings at two places
    assert svg.count('stroke="#888"') == 2 and 'fill="#fff" stroke="#000"' in svg


def test_grid_points_read_as_in_cell_ids_and_cut_shares_are_shown() -> None:
    summary = make_summary()
    for c in summary["cells"]:
        c["grid"] = {"temperature": float(c["grid"]["temperature"]) + 0.7}
        c["truncated"] = 1
    out = render_html(summary)
    assert "temperature=1</th>" in out and "temperature=1.0" not in out
    cut = out[out.index('class="truncated"'):]
    assert cut.count("50%") == 6  # 1 of 2 samples in each of the 6 cells
