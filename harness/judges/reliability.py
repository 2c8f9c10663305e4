"""Whether to believe a judge: the numbers a report shows beside its scores, computed from the
run's ``judgments`` when a summary is built.

Per judge (the numbers that differ by kind are each kind's ``JudgeKind.reliability``,
``harness.judges.kinds``):

- ``unreadable``: the share of calls whose answer could not be parsed (Wilson interval),
  over all calls. Those calls are left out of the scores, never counted as 0.
- ``repeat_agreement`` (rubric, checklist with ``repeats`` > 1): Krippendorff's alpha
  (interval level) over the items, the repeats as coders: 1 is a judge that gives an item
  the same score every time, 0 one whose scores are as variable within an item as across
  items (deepeval #3110: verdicts that flip on re-run).
- ``length_bias``: Spearman's rho between an item's judge value and its length in words
  (CJK characters count one each), clustered by input. A large rho says the judge may be
  rewarding length, not quality (EQ-Bench's length control).
- checklist ``questions``: each question's pass rate over the calls read (which tests a
  text fails, e.g. TTCW's originality ones).
- pairwise ``position``: ``first_chosen`` is the share of decisive verdicts (not tie)
  that picked the text shown first; 0.5 is no position bias. ``consistent`` is the share
  of pairs judged in both orders whose two verdicts agree. Disagreeing orders count as a
  tie, so a position bias cancels out of the scores (Phoenix #12834's order swap).
- pairwise ``strengths``: Bradley–Terry strength per variant (log scale, mean 0) from the
  pair outcomes, with a leave-one-input-out jackknife interval (4 inputs or more); pooled
  over grid points.

A panel (it asks nothing: no calls, nothing unreadable) gets its ``length_bias`` and
``member_agreement``: Krippendorff's alpha (interval) over the items, its members as coders,
each member's values rescaled to 0-1 as the panel averages them.

Between judges (``judge_agreement``): Spearman's rho of every two judges' item values; a
panel against each judge that is not one of its members.
Statistics: ``harness.stats.agreement``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Any

from harness.judges.calls import rescaled
from harness.metrics.length import count_words
from harness.stats.agreement import krippendorff_alpha, rank_correlation, share
from harness.suite.schema import Judge


def judge_section(judges: Sequence[Judge], judgments: dict[str, list[dict[str, Any]]],
                  items: Sequence[dict[str, Any]], sample_scores: dict[str, dict[str, float]],
                  model: str, backend: str) -> dict[str, Any]:
    """{judge name: its reliability numbers} for the judges that have judgments;
    ``sample_scores``: the run's stored per-item values, ``judge.<name>`` among them."""
    by_key = {it["key"]: it for it in items}
    out: dict[str, Any] = {}
    by_name = {j.name: j for j in judges}
    for judge in judges:
        rows = judgments.get(judge.name)
        kind = judge.spec
        if kind.combines:
            if all(judgments.get(m) for m in judge.of):  # a run that ran its members
                out[judge.name] = _panel(judge, [by_name[m] for m in judge.of], by_key,
                                         sample_scores, model, backend)
            continue
        if not rows:
            continue
        unread = sum(1 for r in rows if r["value"] is None)
        entry: dict[str, Any] = {
            "kind": judge.kind, "model": judge.model or model,
            "backend": judge.backend or backend, "criterion": judge.criterion,
            "scale": list(scale) if (scale := kind.scale(judge)) else None,
            "repeats": judge.repeats, "calls": len(rows),
            "unreadable": share(unread, len(rows)).as_dict(),
        }
        entry["length_bias"] = _length_bias(judge, by_key, sample_scores)
        entry.update(kind.reliability(judge, rows, by_key))  # the kind's own numbers
        out[judge.name] = entry
    return out


def _length_bias(judge: Judge, by_key: dict[str, dict[str, Any]],
                 sample_scores: dict[str, dict[str, float]]) -> dict[str, Any]:
    keys = [k for k in by_key if judge.metric in sample_scores.get(k, {})]
    return rank_correlation([sample_scores[k][judge.metric] for k in keys],
                            [count_words(by_key[k]["text"] or "") for k in keys],
                            clusters=[by_key[k]["input_id"] for k in keys]).as_dict()


def _panel(panel: Judge, members: Sequence[Judge], by_key: dict[str, dict[str, Any]],
           sample_scores: dict[str, dict[str, float]], model: str, backend: str
           ) -> dict[str, Any]:
    """A panel's row: it asks nothing (no calls, nothing unreadable), so its length bias,
    and how well its members agree: Krippendorff's alpha (interval) over the items, the
    members as coders, each member's values rescaled to 0-1 as the panel averages them."""
    units = [[None if m.metric not in sample_scores.get(k, {}) else
              rescaled(m, sample_scores[k][m.metric]) for m in members] for k in by_key]
    return {"kind": "panel", "model": "mean of " + ", ".join(m.name for m in members),
            "backend": "panel", "criterion": None, "scale": None, "repeats": 1, "calls": 0,
            "unreadable": share(0, 0).as_dict(), "members": [m.name for m in members],
            "length_bias": _length_bias(panel, by_key, sample_scores),
            "repeat_agreement": None,
            "member_agreement": krippendorff_alpha(units, "interval").as_dict()}


def judge_agreement(judges: Sequence[Judge], sample_scores: dict[str, dict[str, float]],
                    items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Spearman's rho between every two judges' item values (items both judged); a panel
    against every judge that is not one of its members (against a member it would agree
    partly with itself)."""
    inputs = {it["key"]: it["input_id"] for it in items}
    members = {j.metric: {f"judge.{m}" for m in j.of} for j in judges}
    out = []
    for a, b in combinations([j.metric for j in judges], 2):
        if b in members[a] or a in members[b] or members[a] & members[b]:
            continue
        keys = [k for k, s in sample_scores.items() if a in s and b in s and k in inputs]
        est = rank_correlation([sample_scores[k][a] for k in keys],
                               [sample_scores[k][b] for k in keys],
                               clusters=[inputs[k] for k in keys])
        out.append({"a": a, "b": b, **est.as_dict()})
    return out


def missing_reason(summary: dict[str, Any], metric: str) -> str:
    """Why a cell has no value of ``metric``: for a judge whose answers could not be read,
    how many were not ("every answer unreadable (72 of 72)"), else "metric … not
    computed"."""
    entry = (summary.get("judges") or {}).get(metric.removeprefix("judge."))
    if metric.startswith("judge.") and entry and entry.get("calls"):
        n = int(entry["calls"])
        unread = round((entry["unreadable"].get("value") or 0.0) * n)
        if unread == n:
            return f"every answer unreadable ({unread} of {n})"
        return (f"no readable answer about this cell's items ({unread} of {n} answers "
                "unreadable in the run)")
    return f"metric {metric} not computed"
