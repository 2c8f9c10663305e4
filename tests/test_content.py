"""Content-creation features: constraints in requests, persona prompts and consistency,
history windows, few-shot strategies and the ``fewshot_k`` axis on real rendered prompts,
the shipped content suites, and docs/suites.md kept true."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time

import pytest

from harness.metrics import Resources, SampleContext, score_samples
from harness.records import Request
from harness.suite.load import SuiteError, load_suite
from harness.suite.plan import plan
from harness.suite.prompts import select_examples
from harness.suite.schema import Example, FewShot, InputSpec, PromptSpec

from .conftest import ROOT

SUITES = ROOT / "suites"
CONTENT_SUITES = ["stories", "slogans", "blog", "persona_dialogue"]


def write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- constraints ---------------------------------------------------------------------------

def test_slogan_requests_carry_rendered_constraints_outside_the_key():
    suite = load_suite(SUITES / "slogans.yaml")
    requests = plan(suite, ranker=lambda q, c: list(range(len(c))))
    by_input = {r.input_id: dict(r.constraints) for r in requests if r.variant == "plain"}
    assert by_input["coffee"] == {"max_words": 12, "must_include": ("Northwind",)}
    assert by_input["oolong_zh"]["must_include"] == ("山岚",)
    assert isinstance(requests[0], Request)


def test_constraints_do_not_change_request_keys(tmp_path):
    base = """name: c
prompts:
  - id: p
    template: "Write about {{ topic }}."
%s
inputs: [{id: a, topic: sea}]
"""
    plain = plan(load_suite(write(tmp_path, base % "", "a.yaml")))
    constrained = plan(load_suite(write(tmp_path, base % "    constraints: {lines: 4}",
                                        "b.yaml")))
    assert [r.key for r in plain] == [r.key for r in constrained]
    assert [r.constraints for r in constrained][0] == (("lines", 4),)
    assert plain[0].constraints == ()


def test_bad_constraint_template_and_range_are_reported(tmp_path):
    bad = """name: c
prompts:
  - id: p
    template: "Slogan for {{ brand }}."
    constraints:
      must_include: ["{{ brnd }}"]
inputs: [{id: a, brand: Velo}]
"""
    with pytest.raises(SuiteError, match=r"s.yaml:6:22: .*constraints.must_include.0.*'brnd'"):
        load_suite(write(tmp_path, bad))
    with pytest.raises(SuiteError, match="min_words .20. is greater than max_words .12."):
        load_suite(write(tmp_path, bad.replace('must_include: ["{{ brnd }}"]',
                                               "{min_words: 20, max_words: 12}")))


def test_runner_scores_constraint_pass_per_cell(tmp_path, fake_backend):
    from harness.generate.runner import run_suite
    from harness.store.tables import Store

    suite = load_suite(write(tmp_path, """name: c
samples: 2
defaults: {max_tokens: 8}
prompts:
  - id: loose
    template: "Write about {{ topic }}."
    constraints: {max_words: 100}
  - id: strict
    template: "Write about {{ topic }}, please."
    constraints: {max_words: 1}
  - id: none
    template: "Write about {{ topic }}!"
inputs: [{id: a, topic: sea}]
metrics: [constraint_pass, length_words]
"""))
    store = Store(tmp_path / "s.sqlite")
    try:
        cells = run_suite(suite, store).summary["cells"]
    finally:
        store.close()
    rates = {c["variant"]: c["metrics"]["constraint_pass"]["mean"] for c in cells
             if "constraint_pass" in c["metrics"]}
    assert rates == {"loose": 1.0, "strict": 0.0}  # no constraints: the metric does not apply


# -- persona -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def resources():
    return Resources()


def test_persona_prompt_is_the_system_message():
    suite = load_suite(SUITES / "persona_dialogue.yaml")
    requests = plan(suite)
    teacher = next(r for r in requests if r.variant == "teacher")
    assert teacher.messages[0][0] == "system"
    assert "history teacher" in teacher.messages[0][1]
    assert all(role != "system" for role, _ in
               next(r for r in requests if r.variant == "no_persona").messages)


def test_persona_consistency_in_persona_scores_higher(resources):
    persona = ("You are a history teacher who explains historical events as stories, "
               "with people, places and one vivid detail.")
    messages = [{"role": "system", "content": persona}, {"role": "user", "content": "Go on."}]
    in_persona = ("In 1453 the walls of Constantinople shook as Sultan Mehmed's cannons fired; "
                  "inside, Emperor Constantine rode along the ramparts to rally his soldiers.")
    off_persona = "Preheat the oven to 200 degrees and whisk two eggs with the sugar and flour."
    ctx = SampleContext(messages=messages, prompt_text="")
    got = score_samples(["persona_consistency"], [in_persona, off_persona], [ctx, ctx],
                        resources)["persona_consistency"]
    assert got[0] > got[1] + 0.1
    no_system = SampleContext(messages=[{"role": "user", "content": "hi"}], prompt_text="hi")
    assert score_samples(["persona_consistency"], [in_persona], [no_system],
                         resources) == {"persona_consistency": [0.0]}


# -- history -------------------------------------------------------------------------------

def test_persona_dialogue_requests_hold_the_last_n_history_messages():
    suite = load_suite(SUITES / "persona_dialogue.yaml")
    printing = next(i for i in suite.inputs if i.id == "printing")
    assert len(printing.history) == 6
    history = [(m.role, m.content) for m in printing.history]
    by_variant = {r.variant: r for r in plan(suite) if r.input_id == "printing"}
    teacher = by_variant["teacher"]
    window = next(p for p in suite.prompts if p.id == "teacher").history_window
    assert window == 4
    # system, the last 4 history messages in order, then the question
    assert list(teacher.messages[1:-1]) == history[-window:]
    assert teacher.messages[-1] == ("user", printing.vars["question"])
    assert list(by_variant["no_persona"].messages[:-1]) == history[-window:]
    assert len(by_variant["teacher_no_history"].messages) == 2  # system + question
    # a history shorter than the window is shown whole
    wall = next(r for r in plan(suite) if r.variant == "teacher" and r.input_id == "great_wall_zh")
    assert len(wall.messages) == 1 + 2 + 1


# -- few-shot ------------------------------------------------------------------------------

def test_fewshot_k_axis_gives_0_1_3_example_turns(tmp_path):
    suite = load_suite(write(tmp_path, """name: k
samples: 1
sampling: {fewshot_k: [0, 1, 3]}
examples:
  - {id: e1, topic: autumn, output: "Red leaves let go."}
  - {id: e2, topic: winter, output: "Snow on the gate."}
  - {id: e3, topic: sea, output: "Salt on the wind."}
  - {id: e4, topic: 月亮, output: "床前明月光。"}
prompts:
  - id: random
    fewshot: {k: 2, strategy: random}
    template: "Write a short poem about {{ topic }}."
  - id: fixed
    fewshot: {strategy: fixed, ids: [e3, e1, e2, e4]}
    template: "Write a short poem about {{ topic }}."
inputs: [{id: spring, topic: spring}, {id: chun, topic: 春天}]
"""))
    requests = plan(suite)
    assert len(requests) == 2 * 3 * 2
    for r in requests:
        k = dict(r.grid)["fewshot_k"]
        roles = [role for role, _ in r.messages]
        assert roles == ["user", "assistant"] * int(k) + ["user"], (r.cell, roles)
        assert len(r.examples) == k
        assert r.messages[-1][1].startswith("Write a short poem about")
    fixed3 = next(r for r in requests if r.variant == "fixed" and dict(r.grid)["fewshot_k"] == 3)
    assert fixed3.examples == ("Salt on the wind.", "Red leaves let go.", "Snow on the gate.")
    # within a variant, a different k is a different chat, so a different request (at k=0
    # both variants render the same chat and share its generations)
    for variant in ("random", "fixed"):
        mine = [r for r in requests if r.variant == variant]
        assert len({r.key for r in mine}) == len(mine)


def test_fixed_without_k_shows_every_listed_example():
    pool = [Example(id=f"e{i}", topic=f"t{i}", output=f"o{i}") for i in range(4)]
    prompt = PromptSpec(id="p", template="t", fewshot=FewShot(strategy="fixed",
                                                              ids=["e3", "e0", "e1"]))
    assert [e.id for e in select_examples(prompt, pool, InputSpec(id="x"), 0)] == [
        "e3", "e0", "e1"]
    limited = PromptSpec(id="p", template="t",
                         fewshot=FewShot(k=1, strategy="fixed", ids=["e3", "e0"]))
    assert [e.id for e in select_examples(limited, pool, InputSpec(id="x"), 0)] == ["e3"]


def test_similar_picks_the_nearest_example_by_meaning():
    from harness.metrics import Resources
    from harness.suite.prompts import rank_examples

    resources = Resources()

    def ranker(query, candidates):
        return rank_examples(resources.embedder, query, candidates)

    pool = [Example(id="sea", topic="the sea", output="Waves break white on the harbour wall."),
            Example(id="autumn", topic="autumn", output="Red leaves let go without a sound."),
            Example(id="city", topic="the city at night", output="Neon hums above the rain.")]
    prompt = PromptSpec(id="p", template="Write about {{ topic }}.",
                        fewshot=FewShot(k=1, strategy="similar"))
    chosen = select_examples(prompt, pool, InputSpec(id="x", topic="autumn leaves"), 0,
                             ranker=ranker)
    assert [e.id for e in chosen] == ["autumn"]
    chosen = select_examples(prompt, pool, InputSpec(id="y", topic="ocean tides and sailors"), 0,
                             k=2, ranker=ranker)
    assert chosen[0].id == "sea"


# -- the shipped suites --------------------------------------------------------------------

@pytest.mark.parametrize("name", CONTENT_SUITES + ["poetry"])
def test_content_suite_shape(name):
    from harness.metrics import METRICS

    suite = load_suite(SUITES / f"{name}.yaml")
    text = (SUITES / f"{name}.yaml").read_text(encoding="utf-8")
    assert text.startswith("#"), "each suite starts with the question it answers"
    assert set(suite.metrics or []) <= set(METRICS)
    assert any(re.search(r"[\u4e00-\u9fff]", str(i.vars)) for i in suite.inputs)
    assert any(re.search(r"[A-Za-z]{4}", str(i.vars)) and not re.search(
        r"[\u4e00-\u9fff]", str(i.vars)) for i in suite.inputs)
    n = len(plan(suite, ranker=lambda q, c: list(range(len(c)))))
    # a few minutes cold on 2 CPU cores; the default suite gets 4 inputs so that its
    # intervals and paired comparisons over inputs can decide something
    assert n <= (192 if name == "poetry" else 150)
    if name == "poetry":
        assert len(suite.inputs) >= 4
    assert suite.defaults.max_tokens <= (200 if name == "blog" else 96)


def test_poetry_form_variant_has_four_lines_and_all_default_metrics():
    from harness.metrics import DEFAULT_METRICS

    suite = load_suite(SUITES / "poetry.yaml")
    form = next(p for p in suite.prompts if p.id == "form")
    assert form.constraints is not None and form.constraints.lines == 4
    assert set(DEFAULT_METRICS) | {"constraint_pass"} == set(suite.metrics)


def test_slogans_and_blog_constraints():
    slogans = load_suite(SUITES / "slogans.yaml")
    for p in slogans.prompts:
        assert p.constraints.max_words == 12 and "{{ brand }}" in p.constraints.must_include
    assert any(c.metric == "constraint_pass" for c in slogans.checks)
    blog = load_suite(SUITES / "blog.yaml")
    post = next(p for p in blog.prompts if p.id == "post")
    assert (post.constraints.min_chars, post.constraints.max_chars) == (600, 1000)


# -- docs/suites.md stays true -------------------------------------------------------------

def _doc_suites() -> list[str]:
    text = (ROOT / "docs" / "suites.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    return [b for b in blocks if b.lstrip().startswith("name:")]


def test_docs_have_complete_suites():
    assert len(_doc_suites()) >= 8


@pytest.mark.parametrize("index", range(len(_doc_suites())))
def test_docs_suite_snippets_validate(index, tmp_path):
    for folder in ("corpora", "inputs"):
        shutil.copytree(SUITES / folder, tmp_path / folder)
    suite = load_suite(write(tmp_path, _doc_suites()[index], f"doc{index}.yaml"))
    assert plan(suite, ranker=lambda q, c: list(range(len(c))))


# -- end to end on the real model ----------------------------------------------------------

@pytest.mark.model
@pytest.mark.parametrize("name", sorted(p.stem for p in SUITES.glob("*.yaml")))
def test_every_shipped_suite_passes_its_own_check_against_its_own_baseline(tmp_path, name):
    """What a newcomer's first CI does: run the suite in full on the embedded model (as a
    user would: default threads), save a baseline, then `harness check` it against that
    baseline: its own absolute checks hold and the gate passes (exit 0)."""
    import os

    path = SUITES / f"{name}.yaml"
    suite = load_suite(path)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    common = ["--store", str(tmp_path / "s.sqlite")]

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True,
                              text=True, timeout=1800, env=env, cwd=tmp_path)

    started = time.perf_counter()
    run = cli("run", str(path), *common, "--reports", str(tmp_path / "r"), "--format", "json")
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads((tmp_path / "r" / f"{suite.name}-latest.json").read_text("utf-8"))
    assert report["cells"]
    from harness.metrics import METRICS

    # every metric is in every cell but those that do not apply to it (no constraint or
    # persona: harness.metrics.applies), and each of those is in some cell
    conditional = {m for m in suite.metrics or []
                   if {"constraints", "persona", "reference"} & set(METRICS[m].needs)}
    for cell in report["cells"]:
        assert set(suite.metrics or []) - conditional <= set(cell["metrics"]), cell["cell"]
    assert all(any(m in c["metrics"] for c in report["cells"]) for m in conditional)
    made = cli("baseline", "latest", "-o", "base.json", *common)
    assert made.returncode == 0, made.stderr
    check = cli("check", str(path), "--baseline", "base.json", *common, "--reports",
                str(tmp_path / "r"))
    assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-2000:]
    assert "checks passed" in check.stdout
    print(f"{name}: {time.perf_counter() - started:.0f} s")


def test_docs_list_every_top_level_suite_field():
    from harness.suite.schema import Suite

    text = (ROOT / "docs" / "suites.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(\w+)` \|", text, flags=re.M))
    fields = {name for name, f in Suite.model_fields.items() if not f.exclude}
    assert fields <= listed, sorted(fields - listed)
