"""Planning judge calls and turning verdicts into values, without a model."""

from __future__ import annotations

import pytest

from harness.judges.calls import item_values, plan_calls, verdict
from harness.judges.kinds import combine_orders
from harness.suite.evaluation import Check
from harness.suite.load import SuiteError, load_suite
from harness.suite.plan import plan
from harness.suite.schema import Judge, Suite

SUITE = {
    "name": "s", "samples": 2, "seed": 5,
    "prompts": [{"id": "plain", "template": "Write about {{ topic }}."},
                {"id": "persona", "system": "You are a pirate.",
                 "template": "Write about {{ topic }}."},
                {"id": "form", "template": "Write four lines about {{ topic }}."}],
    "inputs": [{"id": "sea", "topic": "the sea"}, {"id": "hai", "topic": "大海"}],
}


def _plan(judge: dict) -> tuple[list, dict]:
    suite = Suite.model_validate({**SUITE, "judges": [judge]})
    requests = plan(suite)
    texts = {r.key: f"text of {r.variant} {r.input_id} {r.sample_index}" for r in requests}
    inputs = {i.id: i.model_dump() for i in suite.inputs}
    calls = plan_calls(suite.judges[0], requests, texts, inputs, model="judge-m",
                       backend="openai", seed=suite.seed)
    return calls, {"requests": requests, "texts": texts, "inputs": inputs, "suite": suite}


def test_rubric_calls_one_per_item_and_repeat_with_distinct_keys():
    calls, ctx = _plan({"name": "c", "criterion": "coherence", "repeats": 3})
    assert len(calls) == 12 * 3
    assert len({c.request.key for c in calls}) == 36
    assert {c.request.params.temperature for c in calls} == {0.7}  # repeats need sampling
    persona = next(c for c in calls if "pirate" in c.request.messages[1][1])
    # the writer's instructions reach the judge (persona fidelity needs them), the text
    # is fenced, and the shipped criterion is in the prompt
    user = persona.request.messages[1][1]
    assert "<<<\ntext of persona" in user and "Coherence:" in user and "Score: N" in user
    # Chinese input: the Chinese template
    hai = next(c for c in calls if "大海" in c.request.messages[1][1])
    assert "待评文本" in hai.request.messages[1][1]


def test_judge_keys_change_with_judge_model_text_and_criterion():
    calls, ctx = _plan({"name": "c", "criterion": "coherence"})
    suite, requests, texts = ctx["suite"], ctx["requests"], ctx["texts"]
    other_model = plan_calls(suite.judges[0], requests, texts, ctx["inputs"], model="judge-2",
                             backend="openai", seed=5)
    assert not {c.request.key for c in calls} & {c.request.key for c in other_model}
    changed = dict(texts, **{requests[0].key: "another text"})
    again = plan_calls(suite.judges[0], requests, changed, ctx["inputs"], model="judge-m",
                       backend="openai", seed=5)
    differ = [a.item_key for a, b in zip(calls, again, strict=True)
              if a.request.key != b.request.key]
    assert differ == [requests[0].key]  # only the changed text's call is new
    creative = Judge(name="c", criterion="creativity")
    third = plan_calls(creative, requests, texts, ctx["inputs"], model="judge-m",
                       backend="openai", seed=5)
    assert not {c.request.key for c in calls} & {c.request.key for c in third}


def test_pairwise_calls_both_orders_without_revealing_the_variant():
    calls, ctx = _plan({"name": "p", "kind": "pairwise"})
    # 3 variant pairs x 2 inputs x 2 samples x 2 orders
    assert len(calls) == 24
    for c in calls:
        user = c.request.messages[1][1]
        assert "pirate" not in user  # a persona system prompt would reveal the variant
    by_pair: dict = {}
    for c in calls:
        by_pair.setdefault((c.item_key, c.other_key), []).append(c)
    for (item, other), pair in by_pair.items():
        assert sorted(c.swapped for c in pair) == [False, True]
        texts = ctx["texts"]
        first = {c.swapped: c.request.messages[1][1] for c in pair}
        assert first[False].index(texts[item]) < first[False].index(texts[other])
        assert first[True].index(texts[other]) < first[True].index(texts[item])
    # the variants' requests differ ("four lines"), so the judge sees the input itself
    form_pair = next(c for c in calls if "form" in c.other_key or True)
    assert form_pair is not None


def test_verdicts_map_to_the_item_whatever_side_it_was_shown_on():
    calls, _ = _plan({"name": "p", "kind": "pairwise"})
    unswapped = next(c for c in calls if not c.swapped)
    swapped = next(c for c in calls if c.swapped)
    assert verdict(unswapped, "Winner: A") == 1.0 and verdict(unswapped, "Winner: B") == 0.0
    assert verdict(swapped, "Winner: A") == 0.0 and verdict(swapped, "Winner: B") == 1.0
    assert verdict(swapped, "Winner: tie") == 0.5 and verdict(swapped, "no idea") is None
    assert combine_orders({False: 1.0, True: 1.0}) == 1.0
    assert combine_orders({False: 1.0, True: 0.0}) == 0.5  # orders disagree: a tie
    assert combine_orders({False: 1.0, True: None}) is None


def test_item_values_mean_over_repeats_and_pairs_by_hand():
    rows = [("a", "", 0, 0, 6.0), ("a", "", 1, 0, 8.0), ("a", "", 2, 0, None),
            ("b", "", 0, 0, None)]
    assert item_values("rubric", rows) == {"a": 7.0}  # b: no readable verdict, no value
    pairs = [("x", "y", 0, 0, 1.0), ("x", "y", 0, 1, 1.0),  # x beats y in both orders
             ("x", "z", 0, 0, 1.0), ("x", "z", 0, 1, 0.0),  # orders disagree: tie
             ("y", "z", 0, 0, None), ("y", "z", 0, 1, 1.0)]  # one order unread: left out
    assert item_values("pairwise", pairs) == {"x": 0.75, "y": 0.0, "z": 0.5}


def test_checklist_value_is_the_share_passed():
    calls, _ = _plan({"name": "t", "kind": "checklist", "questions": ["Is it vivid?",
                                                                     "Is it short?"]})
    assert verdict(calls[0], "1. yes\n2. no") == 0.5
    assert verdict(calls[0], "1. yes") is None
    ttcw, _ = _plan({"name": "t", "kind": "checklist", "questions": "ttcw"})
    assert verdict(ttcw[0], "\n".join(f"{i}. yes" for i in range(1, 15))) == 1.0


@pytest.mark.parametrize("judge,message", [
    ({"name": "t", "kind": "checklist"}, "needs `questions`"),
    ({"name": "r", "repeats": 3, "temperature": 0}, "same answer"),
    ({"name": "r", "backend": "nope"}, "unknown backend 'nope'"),
    ({"name": "r", "scale": [5, 1]}, "low to high"),
    ({"name": "r", "questions": ["a"]}, "belong to a checklist"),
    ({"name": "bad name!"}, "name"),
    ({"name": "p", "kind": "panel"}, "names the judges it averages"),
    ({"name": "p", "of": ["x"]}, "only a panel has `of`"),
    ({"name": "p", "kind": "panel", "of": ["nobody"]}, "'nobody' is not a rubric"),
])
def test_bad_judges_are_one_clear_error(tmp_path, judge, message):
    import yaml

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({**SUITE, "judges": [judge]}, allow_unicode=True))
    with pytest.raises(SuiteError, match="judges") as err:
        load_suite(path)
    assert message in str(err.value)


def test_duplicate_judge_names_are_refused():
    with pytest.raises(ValueError, match="duplicate judge name 'c'"):
        Suite.model_validate({**SUITE, "judges": [{"name": "c"}, {"name": "c"}]})


def test_checks_name_judge_metrics():
    check = Check.model_validate("judge.coherence >= 6")
    assert (check.metric, check.op, check.value) == ("judge.coherence", ">=", 6.0)


def test_a_judge_server_may_not_read_any_environment_variable(tmp_path):
    import yaml

    judge = {"name": "j", "backend": "openai",
             "server": {"base_url": "http://127.0.0.1:9/v1", "api_key_env": "HOME"}}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({**SUITE, "judges": [judge]}, allow_unicode=True))
    with pytest.raises(SuiteError, match=r"judges\[0\]\.server\.api_key_env: 'HOME'"):
        load_suite(path)
    assert load_suite(path, allow_env=["HOME"]).judges[0].server.api_key_env == "HOME"


def test_the_documented_judge_examples_are_valid_suites(tmp_path):
    """docs/judges.md's first example and the commented block in suites/poetry.yaml load."""
    import re

    import yaml

    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "judges.md").read_text(encoding="utf-8")
    block = yaml.safe_load(re.search(r"```yaml\n(.*?)```", doc, re.S).group(1))
    path = tmp_path / "doc.yaml"
    path.write_text(yaml.safe_dump({**SUITE, **block}, allow_unicode=True))
    suite = load_suite(path)
    assert [j.kind for j in suite.judges] == ["rubric", "checklist", "pairwise"]
    assert suite.plot["y"] == "judge.coherence" and suite.checks[0].metric == "judge.coherence"
    poetry = (ROOT / "suites" / "poetry.yaml").read_text(encoding="utf-8")
    tail = poetry[poetry.index("# judges:"):]
    uncommented = "\n".join(line[2:] for line in tail.splitlines() if line.startswith("# "))
    extra = yaml.safe_load(uncommented)
    assert extra.pop("plot") == {"x": "distinct_2", "y": "judge.coherence"}
    copy = tmp_path / "poetry.yaml"
    copy.write_text(poetry + "\n" + yaml.safe_dump(extra, allow_unicode=True), encoding="utf-8")
    (tmp_path / "corpora").symlink_to(ROOT / "suites" / "corpora")
    loaded = load_suite(copy, allow_paths=[ROOT / "suites"])
    assert {j.name for j in loaded.judges} == {"coherence", "preference"}


@pytest.mark.parametrize("judge", [
    {"name": "r", "repeats": 3}, {"name": "c", "kind": "checklist", "questions": "ttcw"},
    {"name": "p", "kind": "pairwise", "repeats": 2},
])
def test_planned_calls_count_what_plan_calls_makes(judge):
    """The limit check counts a judge's calls without planning them; the count must be
    what planning makes (distinct texts: nothing is skipped as identical)."""
    from harness.judges.calls import planned_calls

    grid = {**SUITE, "sampling": {"temperature": [0.5, 1.0]}}
    suite = Suite.model_validate({**grid, "judges": [judge]})
    requests = plan(suite)
    texts = {r.key: f"text {r.key}" for r in requests}
    inputs = {i.id: i.model_dump() for i in suite.inputs}
    calls = plan_calls(suite.judges[0], requests, texts, inputs, model="m", backend="b",
                       seed=1)
    per_variant = len(requests) // len(suite.prompts)
    assert planned_calls(suite.judges[0], len(suite.prompts), per_variant) == len(calls) > 0


def _check(judge: dict, max_tokens: int = 96) -> str | None:
    from harness.judges.calls import check_judge
    from harness.suite.prompts import TemplateProblem

    suite = Suite.model_validate({**SUITE, "judges": [judge]})
    try:
        check_judge(suite.judges[0], [i.model_dump() for i in suite.inputs], max_tokens * 4)
    except TemplateProblem as exc:
        return f"{exc.field}: {exc}"
    return None


@pytest.mark.parametrize("judge,problem", [
    ({"name": "j", "prompt": "Rate {{ text_a }}."}, "'text_a' is not a variable of a rubric"),
    ({"name": "j", "kind": "pairwise", "prompt": "{{ text }}"},
     "'text' is not a variable of a pairwise"),
    ({"name": "j", "prompt": "{{ text }}{% if reference %}{{ oops }}{% endif %}"},
     "'oops' is not a variable"),
    ({"name": "j", "prompt": "{{ text * 999000 }}"}, "template builds a value"),
    # 3,000 stand-in texts of 96 tokens x 4 characters: past the rendered-output limit
    ({"name": "j", "prompt": "{% for i in range(3000) %}{{ text }}{% endfor %}"},
     "characters (limit 1,000,000)"),
    ({"name": "j", "task": "{{ nosuch }}"}, "judge task: 'nosuch' is undefined"),
    ({"name": "j", "prompt": "{{ text + 1 }}"}, "judge prompt: template error"),
])
def test_judge_templates_are_checked_with_the_variables_their_kind_gets(judge, problem):
    found = _check(judge)
    assert found is not None and problem in found, found


@pytest.mark.parametrize("judge", [
    {"name": "j", "prompt": "{{ task }} {{ system }} {{ text }} {{ reference }} {{ lo }}-"
                            "{{ hi }} {{ criterion }} {% for q in range(2) %}{{ q }}{% endfor %}"},
    {"name": "j", "kind": "pairwise", "prompt": "{{ text_a }} vs {{ text_b }}"},
    {"name": "j", "kind": "checklist", "questions": ["a?"],
     "prompt": "{% for q in questions %}{{ loop.index }} {{ q }}{% endfor %} {{ text }}"},
    {"name": "j", "task": "About {{ topic }}", "criterion": "coherence"},
    {"name": "j", "prompt": "{{ text * 100 }}"},  # 38,400 characters: within the limit
])
def test_judge_templates_that_a_run_renders_pass(judge):
    assert _check(judge) is None


def test_strengths_of_a_judge_that_sees_only_ties_show_no_negative_zero():
    """Four variants that always tie: Bradley-Terry centring leaves -8e-17s, which a report
    would print as -0.00 [-0.00, -0.00]."""
    from itertools import combinations

    from harness.judges.reliability import judge_section
    from harness.report.sections import strength_rows

    items = [{"key": f"{v}{i}", "text": "a poem", "input_id": f"i{i}", "variant": v}
             for v in "abcd" for i in range(4)]
    rows = [{"item_key": f"{a}{i}", "other_key": f"{b}{i}", "repeat": 0, "swapped": s,
             "value": 0.5, "answer": "Winner: tie"}
            for i in range(4) for a, b in combinations("abcd", 2) for s in (0, 1)]
    judge = Judge(name="pref", kind="pairwise")
    section = judge_section([judge], {"pref": rows}, items, {}, "m", "hf")
    strengths = section["pref"]["strengths"]
    assert set(strengths) == set("abcd")
    shown = [r[2] for r in strength_rows({"judges": section})]
    assert len(shown) == 4 and not any("-0.00" in s for s in shown), shown


def test_a_panel_row_has_its_length_bias_and_its_members_agreement():
    from harness.judges.reliability import judge_agreement, judge_section

    judges = [Judge(name="r", scale=(1, 5)), Judge(name="c", kind="checklist", questions=["q"]),
              Judge(name="x"), Judge(name="both", kind="panel", of=["r", "c"])]
    items = [{"key": f"k{i}", "text": "word " * (i + 1), "input_id": f"i{i % 5}",
              "variant": "v"} for i in range(20)]
    # the members agree exactly once rescaled (r on 1-5, c a share): alpha 1; the panel
    # rewards length exactly as its members do
    scores = {f"k{i}": {"judge.r": 1 + 4 * (i % 4) / 3, "judge.c": (i % 4) / 3,
                        "judge.x": float(i % 3), "judge.both": (i % 4) / 3}
              for i in range(20)}
    calls = {name: [{"item_key": "k0", "other_key": "", "repeat": 0, "swapped": 0,
                     "value": 1.0, "answer": "1. yes"}] for name in ("r", "c", "x")}
    section = judge_section(judges, calls, items, scores, "m", "hf")
    panel = section["both"]
    assert panel["member_agreement"]["value"] == pytest.approx(1.0)
    assert panel["length_bias"]["n"] == 20 and panel["calls"] == 0
    assert panel["members"] == ["r", "c"]
    pairs = [(r["a"], r["b"]) for r in judge_agreement(judges, scores, items)]
    assert pairs == [("judge.r", "judge.c"), ("judge.r", "judge.x"), ("judge.c", "judge.x"),
                     ("judge.x", "judge.both")]
