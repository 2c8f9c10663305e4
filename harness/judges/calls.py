"""Planning a judge's calls and reading its verdicts.

A call is one request to the judge model about one item (rubric, checklist) or one pair of
items (pairwise), for one repeat. Its request key hashes the judge model and backend, the
rendered judge prompt (so the judged text and the criterion), the sampling parameters and
the repeat, so a call is made once and every run that needs it reuses the stored answer,
like any generation.

Pairwise: for every input, grid point and sample index, each two variants' samples are
compared, each pair in both orders (A/B, then B/A). The value of one call is the outcome
for ``item_key`` (1 it won, 0 it lost, 0.5 the judge said tie), whichever side it was
shown on; ``combine_orders`` makes the pair's outcome: the verdict when both orders agree,
a tie when they disagree (a judge that always picks the first text thus produces only
ties, and its bias cancels).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any

from harness.judges.parse import parse_checklist, parse_choice, parse_score
from harness.judges.templates import (
    checklist_questions,
    criterion_text,
    judge_messages,
    language_of,
)
from harness.records import Request, SamplingParams, content_key, derive_seed
from harness.suite.prompts import render

if TYPE_CHECKING:  # harness.suite.schema plans judge calls with this module
    from harness.suite.schema import Judge


@dataclass(frozen=True)
class Call:
    """One judge request about ``item_key`` (and ``other_key`` for a pairwise judge)."""

    judge: Judge
    request: Request
    item_key: str
    other_key: str = ""
    repeat: int = 0
    swapped: bool = False  # pairwise: other_key was shown as A


def describe_judge(judge: Judge) -> dict[str, Any]:
    """The summary's description of a judge's metric (as ``analysis._describe`` gives a
    registered metric's), with the bounds its values take."""
    lo, hi = judge.scale if judge.kind == "rubric" else (0, 1)
    what = {"panel": f"mean of {', '.join(judge.of)}, each rescaled to 0-1",
            "rubric": f"score {lo}-{hi}, mean over repeats",
            "checklist": "share of yes/no questions passed",
            "pairwise": "win share against other variants' samples, both orders (tie when "
                        "they disagree)"}[judge.kind]
    return {"kind": "judge", "higher_is": "better", "bounds": [lo, hi],
            "description": f"{judge.kind} judge {judge.name} ({judge.criterion or 'overall'}"
                           f"): {what}",
            "source": "LLM judge (docs/judges.md)"}


def temperature(judge: Judge) -> float:
    """The judge's sampling temperature: its own, or 0 for one repeat and 0.7 for more
    (repeats at temperature 0 would all give the same answer)."""
    if judge.temperature is not None:
        return judge.temperature
    return 0.0 if judge.repeats == 1 else 0.7


def _task(item: Request, input_fields: dict[str, Any], judge: Judge) -> str:
    if judge.task:
        return render(judge.task, input_fields, field="judge task")
    users = [c for r, c in item.messages if r == "user"]
    return users[-1] if users else item.input_text


def _system(item: Request) -> str:
    return next((c for r, c in item.messages if r == "system"), "")


def plan_calls(judge: Judge, items: Sequence[Request], texts: dict[str, str],
               inputs: dict[str, dict[str, Any]], *, model: str, backend: str,
               seed: int) -> list[Call]:
    """Every call ``judge`` makes on ``items`` (a run's requests, texts by key).

    ``inputs``: each input's fields by id (for the judge's ``task`` template); ``model`` and
    ``backend``: the judge's, as they enter request keys. Raises ``TemplateProblem`` when
    the judge's ``task`` or ``prompt`` template fails (``check_judge`` finds that before a
    run)."""
    params = SamplingParams(temperature=temperature(judge), top_p=1.0,
                            max_tokens=judge.max_tokens)

    def call(messages: list[dict[str, str]], item: str, other: str = "", repeat: int = 0,
             swapped: bool = False) -> Call:
        chat = tuple((m["role"], m["content"]) for m in messages)
        key = content_key({"judge": judge.kind, "model": model, "backend": backend,
                           "messages": chat, "params": params.as_dict(), "repeat": repeat})
        request = Request(key=key, model=model, messages=chat, params=params,
                          sample_index=repeat, seed=derive_seed(seed, key), no_text_ok=True)
        return Call(judge, request, item, other, repeat, swapped)

    calls: list[Call] = []
    unique = list({r.key: r for r in items}.values())
    if judge.kind == "panel":
        return calls  # a panel asks nothing: it averages its members
    if judge.kind != "pairwise":
        for item in unique:
            variables, lang = item_variables(judge, item, texts[item.key],
                                             inputs.get(item.input_id, {}))
            messages = judge_messages(judge.kind, variables, lang, judge.prompt)
            calls += [call(messages, item.key, repeat=k) for k in range(judge.repeats)]
        return calls
    for a, b in pairs(unique, texts):
        for k in range(judge.repeats):
            for swapped, (first, second) in ((False, (a, b)), (True, (b, a))):
                variables, lang = pair_variables(judge, first, second, texts[first.key],
                                                 texts[second.key], inputs)
                messages = judge_messages("pairwise", variables, lang, judge.prompt)
                calls.append(call(messages, a.key, b.key, k, swapped))
    return calls


def pairs(items: Sequence[Request], texts: dict[str, str]) -> list[tuple[Request, Request]]:
    """The pairs a pairwise judge compares: the samples of every two variants at the same
    input, grid point and sample index (one request per variant), except two that show
    the same text for the same chat."""
    slots: dict[tuple[Any, ...], dict[str, Request]] = {}
    for r in items:
        slots.setdefault((r.input_id, r.grid, r.sample_index), {}).setdefault(r.variant, r)
    return [(a, b) for slot in slots.values() for a, b in combinations(slot.values(), 2)
            if not (texts[a.key] == texts[b.key] and a.messages == b.messages)]


def item_variables(judge: Judge, item: Request, text: str, fields: dict[str, Any]
                   ) -> tuple[dict[str, Any], str]:
    """The template variables of a rubric or checklist judge's call about ``item`` (its
    ``text``; ``fields``: its input's, for the ``task`` template), and the language."""
    task = _task(item, fields, judge)
    lang = _lang(judge, task, text)
    lo, hi = judge.scale
    return {"task": task, "system": _system(item), "text": text,
            "reference": item.reference or "", "lo": lo, "hi": hi,
            "criterion": criterion_text(judge.criterion, lang),
            "questions": checklist_questions(judge.questions, lang)}, lang


def pair_variables(judge: Judge, a: Request, b: Request, text_a: str, text_b: str,
                   inputs: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], str]:
    """The template variables of a pairwise call showing ``a`` as text A and ``b`` as text
    B, and the language. ``system`` is empty: the writer's system prompt would reveal the
    variant."""
    tasks = {_task(a, inputs.get(a.input_id, {}), judge),
             _task(b, inputs.get(b.input_id, {}), judge)}
    # the variants' own requests differ: show the input itself, not one variant's
    task = tasks.pop() if len(tasks) == 1 else a.input_text
    lang = _lang(judge, task, text_a, text_b)  # the same in both orders
    lo, hi = judge.scale
    return {"task": task, "system": "", "reference": a.reference or "", "lo": lo, "hi": hi,
            "criterion": criterion_text(judge.criterion, lang), "questions": [],
            "text_a": text_a, "text_b": text_b}, lang


def planned_calls(judge: Judge, variants: int, per_variant: int) -> int:
    """How many calls ``judge`` makes on a plan of ``variants`` prompts with ``per_variant``
    requests each (inputs × grid points × samples), as ``plan_calls`` makes them: one per
    request and repeat (rubric, checklist), two per pair of variants per slot and repeat
    (pairwise), none (panel). An upper bound: requests that render the same chat are
    judged once, and identical texts are not compared."""
    if judge.kind == "panel":
        return 0
    if judge.kind == "pairwise":
        return per_variant * (variants * (variants - 1) // 2) * 2 * judge.repeats
    return variants * per_variant * judge.repeats


def check_judge(judge: Judge, inputs: Sequence[dict[str, Any]], text_chars: int) -> None:
    """Raise ``TemplateProblem`` where ``judge``'s templates would fail in a run: its
    ``prompt`` names a variable its kind does not get (also inside an ``{% if %}`` that a
    stand-in would not take), or its ``task`` or ``prompt`` fails to render, or renders
    past the output limit, for any input. The calls are planned by ``plan_calls`` itself,
    on stand-in requests (one per input, with a system prompt; two variants per input for a
    pairwise judge) whose texts are ``text_chars`` characters long."""
    from jinja2 import meta

    from harness.suite.prompts import TemplateProblem, _env

    by_id = {str(f["id"]): f for f in inputs}
    items = [Request(key=f"{v}|{i}", model="", messages=(("system", "stand-in system"),
                                                         ("user", "stand-in request")),
                     params=SamplingParams(), sample_index=0, seed=0, variant=v,
                     input_id=i, reference=by_id[i].get("reference"), input_text="input")
             for i in by_id for v in ("a", "b")[: 2 if judge.kind == "pairwise" else 1]]
    texts = {r.key: ("stand-in text " * text_chars)[:text_chars] if r.variant == "a"
             else ("other text " * text_chars)[:text_chars] for r in items}
    if judge.prompt is not None and items:
        a, b = items[0], items[-1]
        variables = (pair_variables(judge, a, b, texts[a.key], texts[b.key], by_id)
                     if judge.kind == "pairwise" else
                     item_variables(judge, a, texts[a.key], by_id[a.input_id]))[0]
        try:
            names = meta.find_undeclared_variables(_env().parse(judge.prompt))
        except Exception:  # a syntax error: rendering below says where
            names = set()
        unknown = sorted(names - set(variables) - set(_env().globals))
        if unknown:
            raise TemplateProblem(f"{unknown[0]!r} is not a variable of a {judge.kind} "
                                  f"judge's prompt; it has: {', '.join(sorted(variables))}",
                                  "judge prompt")
    plan_calls(judge.model_copy(update={"repeats": 1}), items, texts, by_id, model="",
               backend="", seed=0)


def _lang(judge: Judge, *texts: str) -> str:
    return language_of(*texts) if judge.language == "auto" else judge.language


def verdict(call: Call, answer: str) -> float | None:
    """The value of one call's ``answer``: a rubric's score, a checklist's share of yes,
    a pairwise call's outcome for ``item_key``; None when it cannot be read."""
    judge = call.judge
    if judge.kind == "rubric":
        return parse_score(answer, *judge.scale)
    if judge.kind == "checklist":
        n = len(checklist_questions(judge.questions, "en"))
        answers = parse_checklist(answer, n)
        return None if answers is None else sum(answers) / n
    choice = parse_choice(answer)
    if choice is None:
        return None
    if choice == "tie":
        return 0.5
    first_won = choice == "A"
    return float(first_won != call.swapped)


def combine_orders(values: dict[bool, float | None]) -> float | None:
    """A pair's outcome from its two orders ({swapped: value}): the verdict when both agree,
    a tie (0.5) when they disagree, None unless both were read."""
    v0, v1 = values.get(False), values.get(True)
    if v0 is None or v1 is None:
        return None
    return v0 if v0 == v1 else 0.5


def item_values(kind: str, rows: Sequence[tuple[str, str, int, int, float | None]]
                ) -> dict[str, float]:
    """Each item's value of one judge from its ``judgments`` rows (item_key, other_key,
    repeat, swapped, value): the mean over repeats of the values read (rubric, checklist),
    or the item's mean outcome over its pairs, both orders combined (pairwise). Items whose
    every call was unreadable get no value."""
    per_item: dict[str, list[float]] = {}
    if kind != "pairwise":
        for item, _, _, _, value in rows:
            if value is not None:
                per_item.setdefault(item, []).append(value)
    else:
        for (item, other), outcome in pair_outcomes(rows).items():
            per_item.setdefault(item, []).append(outcome)
            per_item.setdefault(other, []).append(1.0 - outcome)
    return {k: sum(v) / len(v) for k, v in per_item.items()}


def panel_values(members: Sequence[Judge], values: dict[str, dict[str, float]]
                 ) -> dict[str, float]:
    """A panel's value of each item: the mean over its ``members`` (rubric or checklist
    judges) of their values, each rescaled to 0-1 (a rubric's ``(v - lo) / (hi - lo)``; a
    checklist's share is one already), for the items every member has a value of."""
    keys = set.intersection(*(set(values.get(m.metric, {})) for m in members))
    return {k: sum(rescaled(m, values[m.metric][k]) for m in members) / len(members)
            for k in keys}


def rescaled(judge: Judge, value: float) -> float:
    """A rubric or checklist judge's ``value`` on 0-1: a rubric's ``(v - lo) / (hi - lo)``,
    a checklist's share as it is."""
    lo, hi = judge.scale if judge.kind == "rubric" else (0, 1)
    return (value - lo) / (hi - lo)


def orders(rows: Sequence[tuple[str, str, int, int, float | None]]
           ) -> dict[tuple[str, str, int], dict[bool, float | None]]:
    """{(item, other, repeat): {swapped: value}}: each pairwise judgment's two orders."""
    out: dict[tuple[str, str, int], dict[bool, float | None]] = {}
    for item, other, repeat, swapped, value in rows:
        out.setdefault((item, other, repeat), {})[bool(swapped)] = value
    return out


def pair_outcomes(rows: Sequence[tuple[str, str, int, int, float | None]]
                  ) -> dict[tuple[str, str], float]:
    """{(item, other): outcome for item}, both orders combined and averaged over repeats;
    pairs with no repeat read in both orders are left out."""
    by_pair: dict[tuple[str, str], list[float]] = {}
    for (item, other, _), values in orders(rows).items():
        outcome = combine_orders(values)
        if outcome is not None:
            by_pair.setdefault((item, other), []).append(outcome)
    return {pair: sum(v) / len(v) for pair, v in by_pair.items()}
