"""The built-in judge kinds (docs/judges.md), each one registered class
(``harness.judges.registry``): ``rubric`` (a score on a scale), ``checklist`` (the share of
yes/no questions passed), ``pairwise`` (two variants' samples compared in both orders) and
``panel`` (the mean of other judges, each rescaled to 0-1; it asks no model).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from harness.judges.base import JudgeKind, Row, register_judge_kind
from harness.judges.parse import parse_checklist, parse_choice, parse_score
from harness.judges.templates import TEMPLATES, checklist_questions, pair_variables

if TYPE_CHECKING:
    from harness.records import Request
    from harness.suite.schema import Judge


@register_judge_kind
class Rubric(JudgeKind):
    """A score from ``lo`` to ``hi`` (``scale``) on one criterion, read from ``Score: N``."""

    name = "rubric"
    templates = TEMPLATES["rubric"]

    def scale(self, judge: Judge) -> tuple[float, float]:
        return judge.scale

    def describe(self, judge: Judge) -> str:
        lo, hi = judge.scale
        return f"score {lo}-{hi}, mean over repeats"

    def verdict(self, judge: Judge, answer: str, swapped: bool) -> float | None:
        return parse_score(answer, *judge.scale)


@register_judge_kind
class Checklist(JudgeKind):
    """The share of yes/no ``questions`` (or the shipped ``ttcw`` set) a text passes."""

    name = "checklist"
    summary = "share of yes/no questions passed"
    templates = TEMPLATES["checklist"]
    takes_questions = True

    def check(self, judge: Judge) -> None:
        if not judge.questions and not judge.prompt:
            raise ValueError("a checklist judge needs `questions` (a list, or `ttcw`)")
        super().check(judge)

    def verdict(self, judge: Judge, answer: str, swapped: bool) -> float | None:
        n = len(checklist_questions(judge.questions, "en"))
        answers = parse_checklist(answer, n)
        return None if answers is None else sum(answers) / n

    def reliability(self, judge: Judge, rows: Sequence[dict[str, Any]],
                    by_key: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Each question's pass rate over the calls whose answer was read (Wilson
        interval), re-read from the stored answers, the questions in English; then the
        repeat agreement."""
        from harness.stats.agreement import share

        questions = checklist_questions(judge.questions, "en")
        read = [a for a in (parse_checklist(r["answer"] or "", len(questions)) for r in rows)
                if a is not None]
        rates = [{"question": q, **share(sum(a[i] for a in read), len(read)).as_dict()}
                 for i, q in enumerate(questions)]
        return {"questions": rates, **super().reliability(judge, rows, by_key)}


@register_judge_kind
class Pairwise(JudgeKind):
    """Which of two variants' samples is better, asked in both orders: a call's value is
    the outcome for its ``item_key`` (1 won, 0 lost, 0.5 tie) whichever side it was shown
    on; a pair's outcome is the verdict when both orders agree, a tie when they disagree
    (``harness.judges.calls.combine_orders``), so a position bias cancels."""

    name = "pairwise"
    summary = ("win share against other variants' samples, both orders (tie when they "
               "disagree)")
    templates = TEMPLATES["pairwise"]
    pairwise = True

    def template_variables(self, judge: Judge, shown: Sequence[Request], texts: Sequence[str],
                           inputs: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], str]:
        return pair_variables(judge, shown[0], shown[1], texts[0], texts[1], inputs)

    def verdict(self, judge: Judge, answer: str, swapped: bool) -> float | None:
        choice = parse_choice(answer)
        if choice is None:
            return None
        if choice == "tie":
            return 0.5
        first_won = choice == "A"
        return float(first_won != swapped)

    def values(self, rows: Sequence[Row]) -> dict[str, float]:
        """Each item's mean outcome over its pairs, both orders combined."""
        per_item: dict[str, list[float]] = {}
        for (item, other), outcome in pair_outcomes(rows).items():
            per_item.setdefault(item, []).append(outcome)
            per_item.setdefault(other, []).append(1.0 - outcome)
        return {k: sum(v) / len(v) for k, v in per_item.items()}

    def planned_calls(self, judge: Judge, variants: int, per_variant: int) -> int:
        """Two per pair of variants per slot and repeat (an upper bound: identical texts
        are not compared)."""
        return per_variant * (variants * (variants - 1) // 2) * 2 * judge.repeats

    def reliability(self, judge: Judge, rows: Sequence[dict[str, Any]],
                    by_key: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """``position``: the share of decisive verdicts for the text shown first, and of
        pairs whose two orders agree; ``strengths``: Bradley–Terry per variant."""
        from harness.stats.agreement import bradley_terry, share

        tuples = [(r["item_key"], r["other_key"], r["repeat"], r["swapped"], r["value"])
                  for r in rows]
        decisive = [(swapped, value) for _, _, _, swapped, value in tuples
                    if value is not None and value != 0.5]
        # the first-shown text won when item_key was shown first (not swapped) and won, or
        # was shown second (swapped) and lost
        first = sum(1 for swapped, value in decisive if (value == 1.0) != bool(swapped))
        both = [v for v in orders(tuples).values()
                if v.get(False) is not None and v.get(True) is not None]
        agree = sum(1 for v in both if v[False] == v[True])
        matches = [(by_key[a]["variant"], by_key[b]["variant"], outcome,
                    by_key[a]["input_id"])
                   for (a, b), outcome in pair_outcomes(tuples).items()
                   if a in by_key and b in by_key]
        return {"position": {"first_chosen": share(first, len(decisive)).as_dict(),
                             "consistent": share(agree, len(both)).as_dict()},
                "strengths": {v: _no_negative_zero(e.as_dict())
                              for v, e in bradley_terry(matches).items()}}


def combine_orders(values: dict[bool, float | None]) -> float | None:
    """A pair's outcome from its two orders ({swapped: value}): the verdict when both agree,
    a tie (0.5) when they disagree, None unless both were read."""
    v0, v1 = values.get(False), values.get(True)
    if v0 is None or v1 is None:
        return None
    return v0 if v0 == v1 else 0.5


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


def _no_negative_zero(estimate: dict[str, Any]) -> dict[str, Any]:
    """Strengths centred to mean 0 come out as -1e-17 where they are 0 (rounding): those,
    and any -0.0, are 0.0, so that no report shows ``-0.00``."""
    return {k: 0.0 if isinstance(v, float) and abs(v) < 1e-9 else v
            for k, v in estimate.items()}


@register_judge_kind
class Panel(JudgeKind):
    """The mean of the rubric or checklist judges named in ``of``, each rescaled to 0-1;
    it asks no model. Its reliability row (members' agreement) is
    ``harness.judges.reliability``'s, which has every member's values."""

    name = "panel"
    combines = True

    def describe(self, judge: Judge) -> str:
        return f"mean of {', '.join(judge.of)}, each rescaled to 0-1"

    def planned_calls(self, judge: Judge, variants: int, per_variant: int) -> int:
        return 0
