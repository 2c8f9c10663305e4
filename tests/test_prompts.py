"""Prompt rendering: persona, history windows, few-shot strategies, the sandbox."""

import pytest

from harness.suite.prompts import TemplateProblem, build_messages, render, select_examples
from harness.suite.schema import Example, FewShot, InputSpec, MessageSpec, PromptSpec

POOL = [Example(id=f"e{i}", topic=f"t{i}", output=f"out {i}") for i in range(6)]


def test_persona_and_history_window():
    prompt = PromptSpec(id="p", system="You are {{ persona }}.", template="{{ question }}",
                        history_window=2)
    history = [MessageSpec(role="user" if i % 2 == 0 else "assistant", content=f"turn {i}")
               for i in range(5)]
    inp = InputSpec(id="x", persona="a history teacher", question="Why?", history=history)
    msgs = build_messages(prompt, inp, [])
    assert msgs[0] == {"role": "system", "content": "You are a history teacher."}
    assert [m["content"] for m in msgs[1:]] == ["turn 3", "turn 4", "Why?"]


def test_history_window_zero_drops_history():
    prompt = PromptSpec(id="p", template="q", history_window=0)
    inp = InputSpec(id="x", history=[MessageSpec(role="user", content="old")])
    assert build_messages(prompt, inp, []) == [{"role": "user", "content": "q"}]


def test_messages_prompt_puts_fewshot_after_system():
    prompt = PromptSpec(id="p", messages=[MessageSpec(role="system", content="S"),
                                          MessageSpec(role="user", content="{{ topic }}")],
                        fewshot=FewShot(k=1, format="template"))
    msgs = build_messages(prompt, InputSpec(id="x", topic="sea"), POOL[:1])
    assert msgs == [{"role": "system", "content": "S"}, {"role": "user", "content": "sea"}]


def test_examples_available_to_templates():
    prompt = PromptSpec(id="p", fewshot=FewShot(k=2, format="template"),
                        template="{% for e in examples %}{{ e.output }}|{% endfor %}{{ topic }}")
    msgs = build_messages(prompt, InputSpec(id="x", topic="sea"), POOL[:2])
    assert msgs == [{"role": "user", "content": "out 0|out 1|sea"}]


def test_random_selection_is_seeded_and_excludes_self():
    prompt = PromptSpec(id="p", template="t", fewshot=FewShot(k=3, strategy="random"))
    inp = InputSpec(id="e0")
    a = select_examples(prompt, POOL, inp, seed=1)
    assert a == select_examples(prompt, POOL, inp, seed=1)
    assert len(a) == 3 and all(e.id != "e0" for e in a)
    draws = {tuple(e.id for e in select_examples(prompt, POOL, inp, seed=s)) for s in range(10)}
    assert len(draws) > 1
    assert len(select_examples(prompt, POOL, inp, seed=1, k=5)) == 5


def test_fixed_and_similar_selection():
    fixed = PromptSpec(id="p", template="t", fewshot=FewShot(strategy="fixed", ids=["e4", "e2"]))
    assert [e.id for e in select_examples(fixed, POOL, InputSpec(id="x"), 0)] == ["e4", "e2"]
    assert [e.id for e in select_examples(fixed, POOL, InputSpec(id="x"), 0, k=1)] == ["e4"]
    similar = PromptSpec(id="p", template="t", fewshot=FewShot(k=2, strategy="similar"))

    def ranker(query, candidates):  # rank by shared characters with the query
        return sorted(range(len(candidates)), key=lambda i: -len(set(query) & set(candidates[i])))

    chosen = select_examples(similar, POOL, InputSpec(id="x", topic="t5"), 0, ranker=ranker)
    assert chosen[0].id == "e5"
    with pytest.raises(TemplateProblem):
        select_examples(similar, POOL, InputSpec(id="x", topic="t5"), 0)


def test_sandbox_blocks_attribute_escape():
    with pytest.raises(TemplateProblem):
        render("{{ ''.__class__.__mro__[1].__subclasses__() }}", {})


def test_strict_undefined():
    with pytest.raises(TemplateProblem, match="'missing' is undefined"):
        render("{{ missing }}", {"topic": "x"})
