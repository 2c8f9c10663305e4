"""Judge kinds are registered classes: a kind defined outside the package runs end to end
like a built-in one, and no kind is ever read as another."""

from __future__ import annotations

import pytest

from harness.errors import UnknownName
from harness.generate.runner import run_suite
from harness.judges.base import KINDS
from harness.judges.calls import Call, verdict
from harness.judges.registry import JudgeKind, register_judge_kind
from harness.store.tables import Store
from harness.suite.load import SuiteError, load_suite
from harness.suite.schema import Judge
from harness.summarize.model import Summary
from tests.judges.test_judge_runs import _judge, _judged, _suite
from tests.judges.test_judge_runs import generation_faked as generation_faked  # a fixture


class YesNo(JudgeKind):
    """A third party's kind: one yes/no question about each text; yes is 1, no is 0."""

    name = "yesno"
    summary = "share of texts the judge called on topic"
    templates = {"en": "The task: {{ task }}\n<<<\n{{ text }}\n>>>\n"
                       "Is the text on topic? Answer yes or no."}

    def verdict(self, judge: Judge, answer: str, swapped: bool) -> float | None:
        word = answer.strip().lower()
        return {"yes": 1.0, "no": 0.0}.get(word)


@pytest.fixture
def yesno():
    """YesNo registered for one test, unregistered after it."""
    yield register_judge_kind(YesNo)
    KINDS.pop(YesNo.name)


def test_a_kind_registered_from_outside_runs_end_to_end(tmp_path, serve, generation_faked,
                                                        yesno):
    # yes for texts of more than 7 words, no for shorter ones, unreadable for "spring..."
    def script(body, attempt):
        text = _judged(body["messages"][-1]["content"])[0]
        if text.startswith("spring"):
            return ("ok", "maybe")
        return ("ok", "yes" if len(text.split()) > 7 else "no")

    server = serve(script)
    judges = (_judge(server.url, "topic", "yesno")
              + "  - {name: both, kind: panel, of: [topic]}\n")
    suite = load_suite(_suite(tmp_path, judges))
    store = Store(tmp_path / "s.sqlite")
    result = run_suite(suite, store)
    assert len(server.seen) == 72  # one call per item, as a rubric makes
    items = {i["key"]: i for i in store.run_items(result.run.id)}
    judged = store.judgments(result.run.id)["topic"]
    for j in judged:  # every value is the kind's verdict on the server's answer
        text = items[j["item_key"]]["text"]
        expected = None if text.startswith("spring") else float(len(text.split()) > 7)
        assert j["value"] == expected
    summary = result.summary
    entry = summary["judges"]["topic"]
    assert entry["kind"] == "yesno" and entry["calls"] == 72 and entry["scale"] is None
    unread = sum(j["value"] is None for j in judged)
    assert entry["unreadable"]["value"] == pytest.approx(unread / 72)
    for cell in summary["cells"]:  # the values reach the summary as the metric judge.topic
        values = [j["value"] for j in judged if j["value"] is not None
                  and items[j["item_key"]]["cell"] == cell["cell"]]
        m = cell["metrics"]["judge.topic"]
        assert min(values) <= m["mean"] <= max(values) and 0 <= m["mean"] <= 1
        # a panel averages it like a checklist: its values are already on 0-1
        assert cell["metrics"]["judge.both"]["mean"] == pytest.approx(m["mean"])
    described = summary["metrics"]["judge.topic"]
    assert "share of texts the judge called on topic" in described["description"]
    assert described["bounds"] == [0, 1]
    Summary.model_validate(summary)


def test_a_prompt_is_checked_against_the_kinds_own_variables(tmp_path, yesno):
    extra = ", prompt: 'Judge {{ text_a }}'"
    path = _suite(tmp_path, _judge("http://127.0.0.1:9", "topic", "yesno", extra))
    with pytest.raises(SuiteError, match="'text_a' is not a variable of a yesno judge"):
        load_suite(path)


def test_a_kind_without_a_template_needs_a_prompt(tmp_path, monkeypatch):
    class Bare(YesNo):
        name = "bare"
        templates = {}

    monkeypatch.setitem(KINDS, "bare", Bare())
    with pytest.raises(SuiteError, match="a bare judge has no shipped template; give `prompt`"):
        load_suite(_suite(tmp_path, _judge("http://127.0.0.1:9", "b", "bare")))


def test_a_name_taken_by_another_class_is_refused(yesno):
    class Other(YesNo):
        pass

    with pytest.raises(Exception, match="judge kind 'yesno' is registered twice"):
        register_judge_kind(Other)


def test_an_unknown_kind_is_never_read_as_another():
    # a judge that bypassed validation (a stored config naming a kind no longer installed)
    judge = Judge.model_construct(name="x", kind="vote", scale=(1, 10), questions=None)
    call = Call(judge=judge, request=None, item_key="a")  # type: ignore[arg-type]
    with pytest.raises(UnknownName, match="unknown judge kind 'vote'"):
        verdict(call, "Winner: A")
