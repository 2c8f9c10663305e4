"""The template checks ``harness validate`` makes before anything runs: every prompt renders
for every input (``harness.suite.prompts.check_prompt``), and every judge's ``prompt`` and
``task`` templates render on stand-in texts as long as the longest generation is likely to
be (``harness.judges.calls.check_judge``), so that no template fails after the generation.

Each problem comes back with the key path it is about, so that ``harness.suite.load`` can
point at its line in the YAML.
"""

from __future__ import annotations

from harness.suite.schema import Suite

Loc = tuple[str | int, ...]  # a key path in the suite's YAML: ("prompts", 0, "template")

CHARS_PER_TOKEN = 4  # a stand-in generation's characters per token (English averages ~4)


def template_problems(suite: Suite, skip: set[int] | frozenset[int] = frozenset()
                      ) -> list[tuple[Loc, str]]:
    """Every broken prompt (except the indices in ``skip``), each with its first problem."""
    from harness.suite.prompts import TemplateProblem, check_prompt

    problems: list[tuple[Loc, str]] = []
    for i, prompt in enumerate(suite.prompts):
        if i in skip:
            continue
        try:
            check_prompt(prompt, suite)
        except TemplateProblem as exc:
            field = exc.field or "template"
            loc: Loc = ("prompts", i, *(field.split(".") if field else ()))
            loc = tuple(int(p) if isinstance(p, str) and p.isdigit() else p for p in loc)
            problems.append((loc, f"prompts[{i}] ({prompt.id}) {field}: {exc}"))
    return problems


def judge_template_problems(suite: Suite) -> list[tuple[Loc, str]]:
    """Every judge whose ``prompt`` or ``task`` template would fail in a run, found by
    planning its calls on stand-in texts as long as the longest generation is likely to be
    (``harness.judges.calls.check_judge``), so it cannot fail after the generation."""
    from harness.judges.calls import check_judge
    from harness.suite.prompts import MAX_RENDERED_CHARS, TemplateProblem

    max_tokens = max([suite.defaults.max_tokens,
                      *(int(v) for v in suite.sampling.get("max_tokens", []))])
    text_chars = min(max_tokens * CHARS_PER_TOKEN, MAX_RENDERED_CHARS // 4)
    inputs = [i.model_dump() for i in suite.inputs]
    problems: list[tuple[Loc, str]] = []
    for j, judge in enumerate(suite.judges):
        try:
            check_judge(judge, inputs, text_chars)
        except TemplateProblem as exc:
            field = (exc.field or "prompt").removeprefix("judge ")
            problems.append((("judges", j, field), f"judges[{j}] ({judge.name}) {field}: {exc}"))
    return problems
