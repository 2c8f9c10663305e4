"""Every table of a report as plain rows that the Markdown, HTML and terminal renderers
each lay out: the checks, and the race, judges, human-ratings and usage sections (one place
decides what is shown and how numbers read; a new section is one entry in ``sections``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.report.format import MISSING, estimate, num
from harness.report.race import RACE_HEADERS, race_note, race_rows

Row = tuple[str, ...]

CHECK_HEADERS = ("", "check", "cell", "value", "baseline", "n", "mdc", "why")
CHECK_NOTE = ("Rows against the baseline are one-sided paired t-tests over the inputs shared "
              "with it (n), Holm-adjusted across rows: a row fails only when the worsening "
              "beyond the allowed change is beyond noise. mdc: the worsening the gate "
              "catches with 80% power at this n; ❔: worse than allowed but within noise.")


def check_mark(row: dict[str, Any]) -> str:
    """✗ failed, ❔ passed but worse than allowed within noise (more inputs would decide),
    ✓ passed."""
    if not row.get("passed"):
        return "❌"
    return "✓" if row.get("more_inputs") is None else "❔"


def check_rows(checks: list[dict[str, Any]] | None, passed: bool = True) -> list[Row]:
    """The checks in ``CHECK_HEADERS`` order, failed ones first; with ``passed`` False,
    only the rows that need a reader's attention (failed, or undecided ❔)."""
    rows = [c for c in checks or [] if not c.get("passed")] + [
        c for c in checks or [] if c.get("passed")
        and (passed or c.get("more_inputs") is not None)]
    return [(check_mark(c), str(c.get("check") or c.get("metric") or ""),
             str(c.get("cell", "")), num(c.get("value")), num(c.get("baseline")),
             str(c.get("n_inputs") or ""), num(c.get("mdc")), str(c.get("reason") or ""))
            for c in rows]


def checks_line(checks: list[dict[str, Any]]) -> str:
    """``2/3 checks passed``: the heading of the checks table."""
    failed = sum(not c.get("passed") for c in checks)
    return f"{len(checks) - failed}/{len(checks)} checks passed"


def checks_note(checks: list[dict[str, Any]] | None) -> str:
    """``CHECK_NOTE`` when a row was tested against a baseline, else nothing."""
    return CHECK_NOTE if any(c.get("p") is not None for c in checks or []) else ""

JUDGE_HEADERS = ("judge", "kind", "model", "calls", "unreadable", "repeat agreement α",
                 "length bias ρ", "first shown chosen", "orders agree")
JUDGE_NOTE = ("unreadable: share of calls whose answer could not be parsed (left out of "
              "the scores). repeat agreement: Krippendorff's α over items, repeats as "
              "coders (1 = same score every time); for a panel, its members as coders. "
              "length bias: Spearman ρ of the judge's "
              "value with length in words. first shown chosen: share of decisive pairwise "
              "verdicts for the text shown first (0.5 = no position bias); orders agree: "
              "share of pairs whose two orders gave the same verdict (disagreeing orders "
              "count as a tie, which cancels position bias). [95% CI], n = what the number "
              "is computed over.")


def judge_rows(summary: dict[str, Any]) -> list[Row]:
    """One row per judge of the run (empty when it has none), in ``JUDGE_HEADERS`` order."""
    rows: list[Row] = []
    for name, j in (summary.get("judges") or {}).items():
        pos = j.get("position") or {}
        rows.append((f"judge.{name}", str(j["kind"]), f"{j['model']} ({j['backend']})",
                     str(j["calls"]), estimate(j.get("unreadable"), pct=True),
                     estimate(j.get("repeat_agreement") or j.get("member_agreement")),
                     estimate(j.get("length_bias")),
                     estimate(pos.get("first_chosen"), pct=True),
                     estimate(pos.get("consistent"), pct=True)))
    return rows


def question_rows(summary: dict[str, Any]) -> list[Row]:
    """(judge, question, pass rate [95% CI]) for checklist judges."""
    return [(f"judge.{name}", str(q["question"]), estimate(q, pct=True))
            for name, j in (summary.get("judges") or {}).items()
            for q in j.get("questions") or []]


def strength_rows(summary: dict[str, Any]) -> list[Row]:
    """(judge, variant, Bradley–Terry strength [95% CI]) for pairwise judges, strongest
    first."""
    rows: list[Row] = []
    for name, j in (summary.get("judges") or {}).items():
        ranked = sorted((j.get("strengths") or {}).items(),
                        key=lambda kv: -(kv[1].get("value") or 0.0))
        rows += [(f"judge.{name}", v, estimate(e)) for v, e in ranked]
    return rows


STRENGTH_NOTE = ("Bradley–Terry strength per variant (log scale, mean 0; variant i beats j "
                 "with probability e^si/(e^si+e^sj)) from pair outcomes with both orders "
                 "combined, pooled over grid points; 95% leave-one-input-out jackknife "
                 "interval (none below 4 inputs); n = pairs the variant took part in.")


def agreement_rows(summary: dict[str, Any]) -> list[Row]:
    """(judge A, judge B, Spearman ρ [95% CI]) between every two judges."""
    return [(str(r["a"]), str(r["b"]), estimate(r)) for r in summary.get("judge_agreement") or []]


USAGE_HEADERS = ("what", "model", "calls", "prompt tokens", "completion tokens", "cost")


def usage_rows(summary: dict[str, Any]) -> list[Row]:
    """Token and cost rows (generation, each judge, total); empty for old summaries."""
    usage = summary.get("usage")
    if not usage or not usage.get("rows"):
        return []

    def cost(c: float | None) -> str:
        return MISSING if c is None else f"{c:.4f}"

    rows: list[Row] = [(what, str(r["model"]), f"{r['calls']:,}", f"{r['prompt_tokens']:,}",
             f"{r['completion_tokens']:,}", cost(r["cost"]))
            for what, r in usage["rows"].items()]
    t = usage["total"]
    return rows + [("total", "", f"{t['calls']:,}", f"{t['prompt_tokens']:,}",
                    f"{t['completion_tokens']:,}", cost(t["cost"]))]


HUMAN_HEADERS = ("metric or judge", "rated items", "Spearman ρ with people [95% CI]",
                 "agrees")
HUMAN_NOTE = ("How well each per-sample metric and judge ranks the rated samples as the "
              "people did: Spearman ρ of its value with the mean human rating, interval "
              "clustered by input; 'agrees' is ρ turned so that higher means agreement "
              "(negated where lower is better, e.g. perplexity; – for metrics without a "
              "direction, such as length). 'rated items': the rated samples that have "
              "the metric or judge's value, which ρ is computed over (fewer items, a wider "
              "interval). Believe the metrics at the top for this task.")


def human_lines(summary: dict[str, Any]) -> list[str]:
    """One-line statements about the run's human ratings: how many, and how well the
    raters agree with each other (empty when there are none)."""
    human = summary.get("human")
    if not human:
        return []
    lines = [f"{human['n_ratings']} ratings of {human['items']} items on {human['sheets']} "
             f"blinded sheet(s) by {len(human['raters'])} rater(s)."]
    for kind in ("rating", "pairwise"):
        part = human.get(kind)
        if part:
            lines.append(f"{kind}: raters agree α = {estimate(part['agreement'])} "
                         f"({part['agreement']['what']}).")
    return lines


def human_rows(summary: dict[str, Any]) -> list[Row]:
    """Which metric to believe: each metric and judge against the human ratings."""
    rating = (summary.get("human") or {}).get("rating") or {}
    return [(str(r["metric"]), str(r["n"]), estimate(r),
             MISSING if r.get("agreement") is None else f"{r['agreement']:+.2f}")
            for r in rating.get("metrics") or []]


def human_pairwise_rows(summary: dict[str, Any]) -> list[Row]:
    """People's Bradley–Terry strengths per variant, then each pairwise judge's agreement
    with the people on the pairs both judged."""
    pairwise = (summary.get("human") or {}).get("pairwise") or {}
    ranked = sorted((pairwise.get("strength") or {}).items(),
                    key=lambda kv: -(kv[1].get("value") or 0.0))
    rows: list[Row] = [("people", f"strength of {v}", estimate(e)) for v, e in ranked]
    rows += [(f"judge.{r['judge']}", "same verdict as people", estimate(r, pct=True))
             for r in pairwise.get("judges") or []]
    return rows


@dataclass(frozen=True)
class Section:
    """One table of a report's quality part: the part it belongs to (``judges``, ``human``
    or ``usage``), a short title (terminal), the note that says what its numbers are
    computed over, and its rows."""

    part: str
    title: str
    note: str
    headers: tuple[str, ...]
    rows: list[Row]


PARTS = {"race": "Adaptive sweep: what the race decided",
         "judges": "Judges: can they be believed?",
         "human": "Human ratings: which metric to believe?",
         "usage": "Tokens and cost"}


def sections(summary: dict[str, Any]) -> list[Section]:
    """The judges', human-ratings' and usage tables the summary has rows for, in report
    order; each part opens with the heading in ``PARTS`` (the human part with
    ``human_lines`` too)."""
    usage = summary.get("usage") or {}
    candidates = [
        Section("race", "adaptive sweep", race_note(summary), RACE_HEADERS,
                race_rows(summary)),
        Section("judges", "judges: can they be believed?", JUDGE_NOTE, JUDGE_HEADERS,
                judge_rows(summary)),
        Section("judges", "checklist questions",
                "Checklist questions: the share of read answers that said yes.",
                ("judge", "question", "passed [95% CI]"), question_rows(summary)),
        Section("judges", "pairwise strengths", STRENGTH_NOTE,
                ("judge", "variant", "strength"), strength_rows(summary)),
        Section("judges", "judges against each other",
                "Judges against each other (Spearman ρ over items both judged).",
                ("judge", "judge", "ρ [95% CI]"), agreement_rows(summary)),
        Section("human", "human ratings: which metric to believe?", HUMAN_NOTE,
                HUMAN_HEADERS, human_rows(summary)),
        Section("human", "human pairwise ratings", "", ("who", "what", "value [95% CI]"),
                human_pairwise_rows(summary)),
        Section("usage", "tokens and cost", usage.get("note", ""), USAGE_HEADERS,
                usage_rows(summary)),
    ]
    return [s for s in candidates if s.rows]
