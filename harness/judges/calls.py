"""Planning a judge's calls and reading its verdicts.

A call is one request to the judge model about one item (rubric, checklist) or one pair of
items (pairwise), for one repeat. Its request key hashes the judge model and backend, the
rendered judge prompt (so the judged text and the criterion), the sampling parameters and
the repeat, so a call is made once and every run that needs it reuses the stored answer,
like any generation.

Pairwise: for every input, grid point and sample index, each two variants' samples are
compared, each pair in both orders (A/B, then B/A). The value of one call is the outcome
for ``item_key`` (1 it won, 0 it lost, 0.5 the judge said tie), whichever side it was
shown on; ``harness.judges.kinds.combine_orders`` makes the pair's outcome: the verdict
when both orders agree, a tie when they disagree (a judge that always picks the first text
thus produces only ties, and its bias cancels).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any

from harness.judges.registry import judge_kind
from harness.judges.templates import judge_messages
from harness.records import Request, SamplingParams, content_key, derive_seed

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
    lo, hi = judge.spec.bounds(judge)
    what = judge.spec.describe(judge)
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

    kind = judge.spec
    calls: list[Call] = []
    unique = list({r.key: r for r in items}.values())
    if kind.combines:
        return calls  # a panel asks nothing: it averages its members
    if not kind.pairwise:
        for item in unique:
            variables, lang = kind.template_variables(judge, [item], [texts[item.key]], inputs)
            messages = judge_messages(kind.template(judge, lang), variables, lang)
            calls += [call(messages, item.key, repeat=k) for k in range(judge.repeats)]
        return calls
    for a, b in pairs(unique, texts):
        for k in range(judge.repeats):
            for swapped, (first, second) in ((False, (a, b)), (True, (b, a))):
                variables, lang = kind.template_variables(
                    judge, [first, second], [texts[first.key], texts[second.key]], inputs)
                messages = judge_messages(kind.template(judge, lang), variables, lang)
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


def planned_calls(judge: Judge, variants: int, per_variant: int) -> int:
    """How many calls ``judge`` makes on a plan of ``variants`` prompts with ``per_variant``
    requests each (inputs × grid points × samples), as ``plan_calls`` makes them
    (``JudgeKind.planned_calls``: one per request and repeat for a rubric or checklist, two
    per pair of variants per slot and repeat for pairwise, none for a panel). An upper
    bound: requests that render the same chat are judged once, and identical texts are
    not compared."""
    return judge.spec.planned_calls(judge, variants, per_variant)


def check_judge(judge: Judge, inputs: Sequence[dict[str, Any]], text_chars: int) -> None:
    """Raise ``TemplateProblem`` where ``judge``'s templates would fail in a run: its
    ``prompt`` names a variable its kind does not get (also inside an ``{% if %}`` that a
    stand-in would not take), or its ``task`` or ``prompt`` fails to render, or renders
    past the output limit, for any input. The calls are planned by ``plan_calls`` itself,
    on stand-in requests (one per input, with a system prompt; two variants per input for a
    pairwise judge) whose texts are ``text_chars`` characters long."""
    from jinja2 import meta

    from harness.suite.prompts import TemplateProblem, _env

    kind = judge.spec
    by_id = {str(f["id"]): f for f in inputs}
    items = [Request(key=f"{v}|{i}", model="", messages=(("system", "stand-in system"),
                                                         ("user", "stand-in request")),
                     params=SamplingParams(), sample_index=0, seed=0, variant=v,
                     input_id=i, reference=by_id[i].get("reference"), input_text="input")
             for i in by_id for v in ("a", "b")[: 2 if kind.pairwise else 1]]
    texts = {r.key: ("stand-in text " * text_chars)[:text_chars] if r.variant == "a"
             else ("other text " * text_chars)[:text_chars] for r in items}
    if judge.prompt is not None and items:
        shown = [items[0], items[-1]] if kind.pairwise else [items[0]]
        variables = kind.template_variables(judge, shown, [texts[r.key] for r in shown],
                                            by_id)[0]
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


def verdict(call: Call, answer: str) -> float | None:
    """The value of one call's ``answer`` (``JudgeKind.verdict``): a rubric's score, a
    checklist's share of yes, a pairwise call's outcome for ``item_key``; None when it
    cannot be read."""
    return call.judge.spec.verdict(call.judge, answer, call.swapped)


def item_values(kind: str, rows: Sequence[tuple[str, str, int, int, float | None]]
                ) -> dict[str, float]:
    """Each item's value of one judge of ``kind`` from its ``judgments`` rows (item_key,
    other_key, repeat, swapped, value), by ``JudgeKind.values``: the mean over repeats of
    the values read (rubric, checklist), or the item's mean outcome over its pairs, both
    orders combined (pairwise). Items whose every call was unreadable get no value."""
    return judge_kind(kind).values(rows)


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
    lo, hi = judge.spec.bounds(judge)
    return (value - lo) / (hi - lo)
