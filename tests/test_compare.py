"""Paired comparisons, per-input set metrics and the gate's refusals, on fake-backend runs
(the statistics themselves are simulated in tests/stats; the real-model gate is in
test_gate.py)."""

from __future__ import annotations

import json
import random

import pytest
from typer.testing import CliRunner

from harness.cli.app import app
from harness.generate.runner import run_suite
from harness.metrics import score_set
from harness.records import Generation
from harness.stats.comparisons import compare_runs, compare_within
from harness.stats.gate import GateError, run_checks
from harness.store.tables import Store
from harness.suite.evaluation import Check
from harness.suite.load import load_suite
from harness.summarize.build import build_summary

from .tolerance import COSINE_ABS

SUITE = """\
name: cmp
model: smollm2-135m
backend: hf
seed: {seed}
samples: 3
defaults: {{max_tokens: {max_tokens}}}
sampling: {{temperature: [0.7, 1.0]}}
prompts:
  - id: plain
    template: "Write a poem about {{{{ topic }}}}."
  - id: other
    template: "Write a song about {{{{ topic }}}}."
inputs:
  - {{id: spring, topic: spring}}
  - {{id: sea, topic: the sea}}
  - {{id: moon, topic: the moon}}
  - {{id: city, topic: a city}}
  - {{id: rain, topic: rain}}
metrics: [distinct_2, self_bleu, length_words, homogenization_rougel]
plot: {{x: distinct_2, y: self_bleu}}
"""


def _suite(tmp_path, seed=7, max_tokens=12):
    path = tmp_path / "cmp.yaml"
    path.write_text(SUITE.format(seed=seed, max_tokens=max_tokens), encoding="utf-8")
    return path


def _two_runs(tmp_path, **b):
    store = Store(tmp_path / "s.sqlite")
    a = run_suite(load_suite(_suite(tmp_path)), store)
    bb = run_suite(load_suite(_suite(tmp_path, **b)), store)
    return store, a.run.id, bb.run.id


def test_compare_runs_pairs_by_input_and_tests_set_metrics(tmp_path, fake_backend):
    store, a, b = _two_runs(tmp_path, max_tokens=40)
    sa, sb = build_summary(store, a), build_summary(store, b)
    result = compare_runs(sa, sb)
    assert result["only_a"] == result["only_b"] == [] and result["correction"] == "bh"
    rows = {(r["cell"], r["metric"]): r for r in result["rows"]}
    r = rows[("plain|temperature=0.7", "length_words")]
    assert r["n_pairs"] == 5 and r["b"] > r["a"]
    assert r["lo"] <= r["diff"] <= r["hi"] and r["significant"] and r["better"] is None
    # a set-level metric now has per-input values, an interval and a test
    d2 = rows[("plain|temperature=0.7", "distinct_2")]
    assert d2["n_pairs"] == 5 and d2["p"] is not None and d2["lo"] is not None
    cell = next(c for c in sa["cells"] if c["cell"] == "plain|temperature=0.7")
    m = cell["metrics"]["distinct_2"]
    assert set(m["inputs"]) == {"spring", "sea", "moon", "city", "rain"}
    assert m["n_inputs"] == 5 and m["n"] == 15 and m["lo"] < m["mean"] < m["hi"]
    # unchanged run vs itself: every difference is exactly zero, nothing significant
    same = compare_runs(sa, sa)
    assert not any(r["significant"] for r in same["rows"])


def test_compare_within_run_variants_and_grid(tmp_path, fake_backend):
    store, a, _ = _two_runs(tmp_path)
    s = build_summary(store, a)
    by_variant = compare_within(s, by="variant")
    assert by_variant["reference"] == "plain"
    labels = {r["cell"] for r in by_variant["rows"]}
    assert labels == {"other vs plain · temperature=0.7", "other vs plain · temperature=1"}
    by_grid = compare_within(s, by="grid", reference="temperature=1")
    assert {r["cell"] for r in by_grid["rows"]} == {
        "temperature=0.7 vs temperature=1 · plain", "temperature=0.7 vs temperature=1 · other"}
    assert {r["a_cell"] for r in by_grid["rows"]} == {"plain|temperature=1", "other|temperature=1"}
    with pytest.raises(KeyError):
        compare_within(s, by="variant", reference="nope")


class _NearCopies:
    """Three near-identical texts per input, on the input's topic."""

    name = "hf"

    def generate(self, requests):
        for r in requests:
            topic = r.messages[-1][1]
            words = {"spring": "green buds open slowly in the warm spring rain today",
                     "the sea": "grey waves roll over stones under a cold wide sky"}
            base = next(v for k, v in words.items() if k in topic)
            yield Generation(key=r.key, text=base + ["", " now", " again"][r.sample_index],
                             completion_tokens=10, backend="hf")

    def score(self, prompts, texts):
        return [[-1.0] * 4 for _ in texts]

    def close(self):
        pass


def test_set_metrics_are_per_input_not_pooled(tmp_path, monkeypatch):
    """Two inputs × three near-copies: the per-input answer (low diversity), not the
    pooled one (topics differ, so the pooled set looks diverse)."""
    import harness.generate.runner

    monkeypatch.setattr(harness.generate.runner, "make_backend", lambda *a, **k: _NearCopies())
    suite = tmp_path / "dup.yaml"
    suite.write_text(SUITE.format(seed=1, max_tokens=12).replace(
        "  - {id: moon, topic: the moon}\n  - {id: city, topic: a city}\n"
        "  - {id: rain, topic: rain}\n", "").replace(
            "homogenization_rougel]",
            "homogenization_rougel, embedding_diversity, cross_input_similarity]"),
        encoding="utf-8")
    store = Store(tmp_path / "s.sqlite")
    res = run_suite(load_suite(suite), store)
    cell = next(c for c in res.summary["cells"] if c["cell"] == "plain|temperature=0.7")
    texts = {inp: [s["text"] for s in res.summary["samples"]
                   if s["cell"] == cell["cell"] and s["input_id"] == inp]
             for inp in ("spring", "sea")}
    both = texts["spring"] + texts["sea"]
    pooled = score_set(["homogenization_rougel", "embedding_diversity"], both)
    for name in ("homogenization_rougel", "embedding_diversity", "self_bleu", "distinct_2"):
        per_input = [score_set([name], texts[i])[name] for i in ("spring", "sea")]
        m = cell["metrics"][name]
        # the text metrics are float64 arithmetic in the same order: equal but for the
        # mean's rounding; embedding diversity comes from float32 embeddings, trusted to
        # float32's bound for the embedder's reductions (tests/tolerance.py), not to a
        # tolerance one machine happened to meet
        tol = COSINE_ABS if name == "embedding_diversity" else 1e-12
        assert m["inputs"] == {"spring": pytest.approx(per_input[0], rel=0, abs=tol),
                               "sea": pytest.approx(per_input[1], rel=0, abs=tol)}
        assert m["mean"] == pytest.approx(sum(per_input) / 2, rel=0, abs=tol)
    hom = cell["metrics"]["homogenization_rougel"]["mean"]
    assert hom > 0.8 and pooled["homogenization_rougel"] < 0.5  # near-copies, not diverse
    emb = cell["metrics"]["embedding_diversity"]
    assert emb["mean"] < 0.15 and pooled["embedding_diversity"] > 0.4
    # what differs is across inputs, and that has its own metric
    cross = cell["metrics"]["cross_input_similarity"]
    assert set(cross["inputs"]) == {"spring", "sea"} and cross["mean"] < 1 - emb["mean"] - 0.3


def test_compare_cli_formats_and_within_run(tmp_path, fake_backend):
    store, a, b = _two_runs(tmp_path, max_tokens=40)
    runner = CliRunner()
    base = tmp_path / "a.json"
    st = ["--store", str(store.path)]
    assert runner.invoke(app, ["baseline", a, "-o", str(base), *st]).exit_code == 0
    for fmt in ("md", "json", "html", "table"):
        res = runner.invoke(app, ["compare", str(base), b, "--format", fmt, *st])
        assert res.exit_code == 0, res.output
        name = "length\\_words" if fmt == "md" else "length_words"  # Markdown escapes _
        assert name in res.output and "p_adj" in res.output.replace("\\_", "_")
    rows = json.loads(runner.invoke(app, ["compare", a, b, "--format", "json", *st]).output)
    assert any(r["significant"] and r["metric"] == "length_words" for r in rows["rows"])
    within = runner.invoke(app, ["compare", b, "--format", "json", *st])
    assert within.exit_code == 0 and json.loads(within.output)["kind"] == "variant"
    bad = runner.invoke(app, ["compare", b, "--by", "temperature", *st])
    assert bad.exit_code == 2


def test_checks_absolute_and_relative(tmp_path, fake_backend):
    store, a, b = _two_runs(tmp_path, max_tokens=40)
    sa, sb = build_summary(store, a), build_summary(store, b)
    rows = run_checks(sb, [Check(metric="length_words", op="<=", value=1000),
                           Check(metric="length_words", max_increase=1.0),
                           Check(metric="no_such_metric", op=">", value=0)], baseline=sa,
                      metrics=["distinct_2"], tolerance=10.0)
    by_check: dict[str, list[dict]] = {}
    for r in rows:
        by_check.setdefault(r["check"], []).append(r)
    assert [r["passed"] for r in by_check["length_words <= 1000"]] == [True] * 4
    rises = by_check["length_words rises at most 1 over baseline"]
    assert [r["passed"] for r in rises] == [False] * 4  # 12 -> 40 tokens: far beyond noise
    assert all(r["n_inputs"] == 5 and r["p_adj"] < 0.05 for r in rises)
    assert [r["passed"] for r in by_check["no_such_metric > 0"]] == [False] * 4
    # a tolerance of 1000% cannot be exceeded: passes, with the minimum detectable change
    lenient = by_check["distinct_2 no worse than baseline (tolerance 1000%)"]
    assert all(r["passed"] and r["mdc"] is not None for r in lenient)


def test_gate_refuses_what_it_cannot_judge(tmp_path, fake_backend):
    store, a, _ = _two_runs(tmp_path)
    s = build_summary(store, a, samples=False)
    with pytest.raises(GateError, match="no cells"):
        run_checks(s, [], {"cells": []})
    other = json.loads(json.dumps(s))
    for c in other["cells"]:
        c["cell"] = "x" + c["cell"]
    with pytest.raises(GateError, match="shares no cell"):
        run_checks(s, [], other)
    with pytest.raises(GateError, match="not computed"):
        run_checks(s, [], s, metrics=["distinct2"])
    with pytest.raises(GateError, match="no better direction"):
        run_checks(s, [], s, metrics=["length_words"])
    old = json.loads(json.dumps(s))
    for c in old["cells"]:
        for m in c["metrics"].values():
            m.pop("inputs")
    with pytest.raises(GateError, match="per-input"):
        run_checks(s, [], old)
    few = json.loads(json.dumps(s))
    for c in few["cells"]:
        for m in c["metrics"].values():
            m["inputs"] = dict(list(m["inputs"].items())[:2])
    with pytest.raises(GateError, match="at least 3 inputs"):
        run_checks(s, [], few)


def test_check_cli_exit_codes(tmp_path, fake_backend):
    suite = _suite(tmp_path)
    runner = CliRunner()
    st = ["--store", str(tmp_path / "s.sqlite"), "--reports", str(tmp_path / "r")]
    res = runner.invoke(app, ["check", str(suite), *st])
    assert res.exit_code == 2 and "nothing to check" in res.output
    empty = tmp_path / "empty.json"
    empty.write_text('{"cells": []}', encoding="utf-8")
    res = runner.invoke(app, ["check", str(suite), "--baseline", str(empty), *st])
    assert res.exit_code == 2 and "no cells" in res.output
    assert runner.invoke(app, ["baseline", "latest", "-o", str(tmp_path / "b.json"),
                               "--store", str(tmp_path / "s.sqlite")]).exit_code == 0
    res = runner.invoke(app, ["check", str(suite), "--baseline", str(tmp_path / "b.json"),
                              "--metric", "distinct2", *st])
    assert res.exit_code == 2 and "distinct2" in res.output
    res = runner.invoke(app, ["check", str(suite), "--baseline", str(tmp_path / "b.json"), *st])
    assert res.exit_code == 0, res.output
    assert "identical to the baseline" in res.output


def test_noise_rerun_passes_and_shift_fails_the_gate(tmp_path, monkeypatch):
    """New seeds on an unchanged prompt pass; a prompt that lengthens every text fails,
    and the failing rows name the metric that moved."""
    import harness.generate.runner

    from .conftest import FakeBackend

    class Longer(FakeBackend):
        def generate(self, requests):
            for g in super().generate(requests):
                rng = random.Random(g.key)  # fresh words: longer, not less diverse
                extra = " ".join(f"w{rng.randrange(10**6)}" for _ in g.text.split())
                yield Generation(key=g.key, text=g.text + " " + extra, backend="hf")

    backend: list = [FakeBackend]
    monkeypatch.setattr(harness.generate.runner, "make_backend", lambda *a, **k: backend[0]())
    store = Store(tmp_path / "s.sqlite")
    base = run_suite(load_suite(_suite(tmp_path, seed=1)), store).summary
    rerun = run_suite(load_suite(_suite(tmp_path, seed=2)), store).summary
    checks = [Check(metric="length_words", max_increase=2.0)]
    rows = run_checks(rerun, checks, base, metrics=["distinct_2"])
    assert all(r["passed"] for r in rows), [r["reason"] for r in rows if not r["passed"]]
    backend[0] = Longer  # e.g. a prompt change that makes every text twice as long
    longer = run_suite(load_suite(_suite(tmp_path, seed=3)), store).summary
    failed = [r for r in run_checks(longer, checks, base, metrics=["distinct_2"])
              if not r["passed"]]
    assert failed and {r["check"] for r in failed} == {checks[0].describe()}


def _check(runner, suite, *args):
    res = runner.invoke(app, ["check", str(suite), *args])
    return res.exit_code, res.output


def test_gate_new_cells_set_sizes_added_inputs_and_other_suites(tmp_path, fake_backend):
    """End to end through `harness check` (issue 22): a new variant is reported as new and
    passes; a change of `samples` is refused for set metrics (exit 2, saying why); inputs
    added since the baseline are listed as not judged and the row's numbers are over the
    inputs it tests; a baseline of another suite is refused unless allowed."""
    runner = CliRunner()
    st = ["--store", str(tmp_path / "s.sqlite"), "--reports", str(tmp_path / "r")]
    suite = _suite(tmp_path)
    assert runner.invoke(app, ["run", str(suite), *st]).exit_code == 0
    base = tmp_path / "base.json"
    assert runner.invoke(app, ["baseline", "latest", "-o", str(base), *st[:2]]).exit_code == 0
    text = suite.read_text(encoding="utf-8")

    # a new variant: its cells have no baseline value
    suite.write_text(text.replace("prompts:\n", "prompts:\n  - id: third\n"
                                  "    template: \"A haiku about {{ topic }}.\"\n"),
                     encoding="utf-8")
    code, out = _check(runner, suite, "--baseline", str(base), *st)
    assert code == 0, out
    assert "new cell: not in the baseline, not judged" in out and "FAIL" not in out
    assert "4 new (not judged)" in out  # 2 metrics × 2 grid points of the new variant
    assert "no allowance for noise" in out and "larger of |mean| and the SD" in out

    # 3 -> 6 samples per input: the set metrics (distinct_2, self_bleu) move with set size
    suite.write_text(text.replace("samples: 3", "samples: 6"), encoding="utf-8")
    code, out = _check(runner, suite, "--baseline", str(base), *st)
    assert code == 2 and "samples per input" in out and "3 samples per input in the " \
        "baseline, 6 now" in " ".join(out.split()), out

    # two inputs added after the baseline: judged over the 5 shared, the 2 new listed
    suite.write_text(text.replace("inputs:\n", "inputs:\n  - {id: fog, topic: fog}\n"
                                  "  - {id: snow, topic: snow}\n"), encoding="utf-8")
    code, out = _check(runner, suite, "--baseline", str(base), *st)
    assert code == 0, out
    rows = [r for r in json.loads(_latest(tmp_path / "r"))["checks"] if r["baseline"]]
    assert rows and all(r["n_inputs"] == 5 and r["not_judged"] == ["fog", "snow"]
                        for r in rows)
    cells = {c["cell"]: c for c in json.loads(_latest(tmp_path / "r"))["cells"]}
    r = rows[0]
    metric = r["check"].split()[0]
    inputs = cells[r["cell"]]["metrics"][metric]["inputs"]
    shared = [v for k, v in inputs.items() if k not in ("fog", "snow")]
    assert r["value"] == pytest.approx(sum(shared) / 5)  # the mean over what it tests
    assert "2 inputs not in the baseline (fog, snow)" in " ".join(out.split())

    # a baseline of another suite with the same cell and input ids
    other = json.loads(base.read_text(encoding="utf-8"))
    other["run"]["suite"] = "otherproject"
    (tmp_path / "other.json").write_text(json.dumps(other), encoding="utf-8")
    suite.write_text(text, encoding="utf-8")
    code, out = _check(runner, suite, "--baseline", str(tmp_path / "other.json"), *st)
    assert code == 2 and "otherproject" in out and "--allow-other-suite" in out
    code, out = _check(runner, suite, "--baseline", str(tmp_path / "other.json"),
                       "--allow-other-suite", *st)
    assert code == 0, out


def _latest(reports) -> str:
    files = sorted(reports.glob("*.json"), key=lambda p: p.stat().st_mtime)
    return files[-1].read_text(encoding="utf-8")


def test_gate_margin_has_a_floor_for_metrics_near_zero():
    """A metric whose baseline mean is ~0 (a rare repetition rate) gets an allowed change
    from its spread over inputs, not 10% of ~0: a worsening well inside that spread passes,
    one far beyond it fails."""
    from harness.summarize.cells import summary_from_inputs

    base = {"v|t=1": {"repetition": {f"i{j}": v for j, v in
                                     enumerate([0.0, 0.02, -0.0, 0.01, 0.0, 0.03, 0.0, 0.01])}}}
    a = summary_from_inputs(base, "a", samples_per_input=4)
    small = summary_from_inputs({"v|t=1": {"repetition": {
        k: v + 0.001 * (j % 3) for j, (k, v) in enumerate(base["v|t=1"]["repetition"].items())
    }}}, "b",
        samples_per_input=4)
    (row,) = run_checks(small, [], a, ["repetition"], tolerance=0.1)
    assert row["allowed"] > 0.1 * abs(row["baseline"]) and row["allowed"] > 0.001
    assert row["passed"] and "better" not in row["reason"]
    big = summary_from_inputs({"v|t=1": {"repetition": {
        k: v + 0.2 + 0.01 * (j % 3) for j, (k, v) in enumerate(
            base["v|t=1"]["repetition"].items())}}}, "b",
        samples_per_input=4)
    (row,) = run_checks(big, [], a, ["repetition"], tolerance=0.1)
    assert not row["passed"] and row["status"] == "FAIL"


def test_compare_hides_constant_and_bookkeeping_rows_and_ends_with_a_summary(
        tmp_path, fake_backend):
    store, a, b = _two_runs(tmp_path, max_tokens=40)
    runner = CliRunner()
    st = ["--store", str(store.path)]
    sa = build_summary(store, a)
    for c in sa["cells"]:  # a metric that is 0 everywhere, like `degenerate`
        c["metrics"]["constant_zero"] = {"mean": 0.0, "lo": 0.0, "hi": 0.0, "n": 15,
                                         "n_inputs": 5, "method": "t over inputs",
                                         "inputs": {i: 0.0 for i in c["metrics"][
                                             "distinct_2"]["inputs"]}}
    result = compare_within(sa)
    assert result["hidden"] == ["constant_zero"]
    assert all(r["metric"] != "constant_zero" for r in result["rows"])
    assert any(r["metric"] == "constant_zero" for r in compare_within(sa, show_all=True)[
        "rows"])
    out = runner.invoke(app, ["compare", a, *st]).output
    last = out.strip().splitlines()[-1]
    assert last.startswith(f"{compare_within(build_summary(store, a))['significant']} of ")
    assert "tested row" in last and "verdict" in out
    # one count everywhere: the Markdown and HTML reports say the same line
    from html import escape

    from harness.report import render
    from harness.report.format import md_escape

    summary = build_summary(store, a)
    assert md_escape(last) in render(summary, "md")
    assert escape(last) in render(summary, "html")


def test_compare_intervals_agree_with_verdicts_and_stay_in_bounds():
    """FCR-adjusted intervals (level 1 − alpha·R/m): a row's interval excludes 0 exactly
    when its row is significant, and no interval leaves the metric's possible differences
    (a pass rate's in [−1, 1]); a count metric's cell interval stays in [1, set size]."""
    import numpy as np

    from harness.summarize.cells import summary_from_inputs

    rng = np.random.default_rng(3)
    ids = [f"i{j}" for j in range(6)]
    va, vb = {}, {}
    for c in range(12):
        cell = f"v|t={c}"
        shift = 0.0 if c % 3 else -0.8
        pa = rng.uniform(0.85, 1.0, 6)
        va[cell] = {"constraint_pass": dict(zip(ids, pa, strict=True)),
                    "distinct_answers": dict(zip(ids, rng.choice([2.0, 3.0], 6), strict=True))}
        vb[cell] = {"constraint_pass": dict(zip(ids, np.clip(
            pa + shift + rng.normal(0, 0.3, 6), 0, 1), strict=True)),
                    "distinct_answers": dict(zip(ids, rng.choice([1.0, 3.0], 6), strict=True))}
    a = summary_from_inputs(va, "a", samples_per_input=3)
    b = summary_from_inputs(vb, "b", samples_per_input=3)
    result = compare_runs(a, b)
    assert result["significant"] >= 1
    for r in result["rows"]:
        if r["p"] is None:
            continue
        assert (not r["lo"] <= 0 <= r["hi"]) == r["significant"] or r["lo"] == 0 == r["hi"], r
        lim = 1.0 if r["metric"] == "constraint_pass" else 2.0
        assert -lim <= r["lo"] <= r["hi"] <= lim
    for s in (a, b):
        for c in s["cells"]:
            m = c["metrics"]["distinct_answers"]
            assert 1.0 <= m["lo"] <= m["hi"] <= 3.0
