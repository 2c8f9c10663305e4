"""What human ratings say: per-sample human scores, agreement between raters, and which
metric or judge agrees with the humans (docs/ratings.md). The sheets are exported by
``harness.humans.sheets`` and read back by ``harness.humans.reading``; the statistics
(alpha, rank correlation, Bradley-Terry, Wilson share) are ``harness.stats.agreement``'s.

``human_item_scores`` gives per-sample human scores (``human.rating``, the mean over
raters; ``human.pairwise``, a text's win share) to merge into a run's per-sample scores;
``human_section`` gives what a report shows: inter-rater agreement (Krippendorff's alpha),
each metric's and judge's rank correlation with the human mean (clustered by input, best
first), Bradley-Terry strengths of the variants from pairwise votes, and how often a
pairwise judge agrees with the humans.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from harness.metrics.direction import better_when_higher
from harness.store.tables import Judgment, Store

HUMAN_RATING = "human.rating"
HUMAN_PAIRWISE = "human.pairwise"
JUDGE_PREFIX = "judge."


# -- results --------------------------------------------------------------------------


def _ratings(store: Store, run_id: str) -> list[dict[str, Any]]:
    """The human ratings of the texts a run shows (``Store.ratings``), ratings of rating
    sheets on one scale: the oldest rating sheet's (a store of an earlier release may
    hold sheets of two runs on two scales that now share texts; each value is mapped
    linearly onto that scale)."""
    ratings = store.ratings(run_id)  # oldest sheet first
    scales = [tuple(r["scale"]) for r in ratings if r["kind"] == "rating" and r["scale"]]
    if len(set(scales)) <= 1:
        return ratings
    lo, hi = scales[0]
    out = []
    for r in ratings:
        if r["kind"] == "rating" and r["scale"] and tuple(r["scale"]) != (lo, hi):
            a, b = r["scale"]
            r = {**r, "value": lo + (float(r["value"]) - a) / (b - a) * (hi - lo),
                 "scale": [lo, hi]}
        out.append(r)
    return out


def _pair_outcomes(ratings: list[dict[str, Any]]
                   ) -> dict[tuple[str, str], dict[str, list[float]]]:
    """Pairwise votes by unordered pair, oriented to the pair's sorted keys: {(k1, k2):
    {rater: [outcome for k1, ...]}}."""
    out: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in ratings:
        if r["kind"] != "pairwise":
            continue
        a, b, v = r["item_key"], r["other_key"], float(r["value"])
        k1, k2 = sorted((a, b))
        out[(k1, k2)][r["rater"]].append(v if a == k1 else 1.0 - v)
    return out


def _rating_by_key(ratings: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """{request key: {rater: mean of that rater's ratings of it}} over rating sheets."""
    acc: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in ratings:
        if r["kind"] == "rating":
            acc[r["item_key"]][r["rater"]].append(float(r["value"]))
    return {k: {who: _mean(vs) for who, vs in by.items()} for k, by in acc.items()}


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def describe_human(sheets: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The summary's description of the human metrics of a run with these ``sheets`` (as
    ``analysis._describe`` gives a registered metric's), with the bounds they take."""
    out: dict[str, dict[str, Any]] = {}
    for sheet in sheets:  # oldest first: the first rating sheet's scale is the one shown
        if sheet["kind"] == "rating" and sheet.get("scale") and HUMAN_RATING not in out:
            lo, hi = sheet["scale"]
            out[HUMAN_RATING] = {
                "kind": "human", "higher_is": "better", "bounds": [lo, hi],
                "description": f"human rating {lo:g}-{hi:g}, mean over raters (rated "
                               "samples only)",
                "source": "blinded rating sheet (docs/ratings.md)"}
        elif sheet["kind"] == "pairwise":
            out[HUMAN_PAIRWISE] = {
                "kind": "human", "higher_is": "better", "bounds": [0, 1],
                "description": "human win share against other variants' samples (a tie "
                               "counts half; rated pairs only)",
                "source": "blinded pairwise sheet (docs/ratings.md)"}
    return out


def human_item_scores(store: Store, run_id: str) -> dict[str, dict[str, float]]:
    """Per-sample human scores of a run, to merge into its per-sample metric values:
    ``{request key: {"human.rating": mean over raters (each rater's own ratings of the key
    averaged first), "human.pairwise": the share of the text's pairwise comparisons it
    won (a tie counts half; over every rater's vote)}}``; a key has only the scores it was
    rated for. ``human.pairwise`` depends on which variants a text met: read it next to
    the Bradley-Terry strengths in ``human_section``."""
    ratings = _ratings(store, store.run(run_id).id)
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for key, by_rater in _rating_by_key(ratings).items():
        out[key][HUMAN_RATING] = _mean(list(by_rater.values()))
    wins: dict[str, list[float]] = defaultdict(list)
    for (k1, k2), votes_by in _pair_outcomes(ratings).items():
        for votes in votes_by.values():
            wins[k1].extend(votes)
            wins[k2].extend(1.0 - v for v in votes)
    for key, vs in wins.items():
        out[key][HUMAN_PAIRWISE] = _mean(vs)
    return dict(out)


def human_section(store: Store, run_id: str, sample_scores: dict[str, dict[str, float]],
                  items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """What a report shows about a run's human ratings (JSON-able), or None when it has
    none.

    ``sample_scores``: the run's per-sample values {request key: {metric: value}} (metrics
    and ``judge.*`` values; ``human.*`` entries are ignored); ``items``: its plan rows
    (key, variant, input_id, ...). Returns ``{"sheets", "items", "raters", "rating",
    "pairwise"}``: counts over all sheets, then per kind (None when the run has no sheet
    of that kind):

    - ``rating``: ``agreement``: Krippendorff's alpha between raters (interval level;
      units are request keys, a rater's repeated ratings of one key averaged);
      ``metrics``: for each metric, Spearman's rank correlation of its per-sample value
      with the human mean over the rated samples that have it, 95% interval clustered
      by input (``rank_correlation``), and ``agreement``: the correlation oriented so
      that higher always means "agrees with the humans" (negated for a metric where
      lower is better; ``judge.*`` are higher-is-better). Best first; metrics without a
      direction (e.g. length) last, by the size of their correlation.
    - ``pairwise``: ``agreement``: Krippendorff's alpha (nominal: A, B or tie as shown;
      units are the sheets' rows) between raters; ``strength``: the Bradley-Terry
      strength of each variant from every human vote (jackknife over inputs);
      ``judges``: for each pairwise judge in ``judgments`` that judged pairs the humans
      also judged, the share of those pairs where the judge's verdict equals the
      humans', Wilson interval. The judge's verdict is its own outcome of the pair
      (``harness.judges.calls.pair_outcomes``: both orders combined, a tie when they
      disagree, mean over repeats), the humans' the mean of their votes; either is a win
      for one text above 0.5, for the other below, a tie at 0.5.
    """
    from harness.stats.agreement import bradley_terry, krippendorff_alpha, rank_correlation, share

    run = store.run(run_id)
    ratings = _ratings(store, run.id)
    if not ratings:
        return None
    input_of = {i["key"]: i["input_id"] for i in items}
    out: dict[str, Any] = {
        "sheets": len({r["sheet"] for r in ratings}),
        "items": len({(r["sheet"], r["item"]) for r in ratings}),
        "raters": sorted({r["rater"] for r in ratings}),
        "n_ratings": len(ratings),
        "rating": None, "pairwise": None,
    }
    by_key = _rating_by_key(ratings)
    if by_key:
        raters = sorted({who for by in by_key.values() for who in by})
        table = [[by.get(who) for who in raters] for by in by_key.values()]
        alpha = krippendorff_alpha(table, "interval")
        human = {k: _mean(list(by.values())) for k, by in by_key.items()}
        out["rating"] = {
            "n_samples": len(human), "raters": raters,
            "agreement": {**alpha.as_dict(), "what": "Krippendorff's alpha between raters, "
                          "interval level, over rated samples"},
            "metrics": _metric_rows(human, sample_scores, input_of, rank_correlation),
        }
    pairs = _pair_outcomes(ratings)
    if pairs:
        # units: the rows of the sheets, answers as shown (A, B, tie): sides were drawn at
        # random, so a side says nothing by itself, while a pair oriented by variant would
        # make a strong preference look like chance agreement
        shown: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
        for r in ratings:
            if r["kind"] == "pairwise":
                shown[(r["sheet"], r["item"])][r["rater"]] = float(r["value"])
        raters = sorted({who for by in shown.values() for who in by})
        alpha = krippendorff_alpha([[by.get(who) for who in raters] for by in shown.values()],
                                   "nominal")
        out["pairwise"] = {
            "n_pairs": len(pairs), "n_votes": sum(len(v) for by in pairs.values()
                                                  for v in by.values()),
            "raters": raters,
            "agreement": {**alpha.as_dict(), "what": "Krippendorff's alpha between raters, "
                          "nominal (A, B, tie as shown), over rated rows"},
            "strength": _strengths(pairs, items, bradley_terry),
            "judges": _judge_agreement(store.pairwise_verdicts(run.id), pairs, share),
        }
    return out


def _metric_rows(human: dict[str, float], sample_scores: dict[str, dict[str, float]],
                 input_of: dict[str, str], rank_correlation: Any) -> list[dict[str, Any]]:
    names = sorted({m for k in human for m in sample_scores.get(k, {})
                    if not m.startswith("human.")})
    rows = []
    for name in names:
        keys = [k for k in human if name in sample_scores.get(k, {})]
        x = [sample_scores[k][name] for k in keys]
        y = [human[k] for k in keys]
        est = rank_correlation(x, y, clusters=[input_of.get(k, k) for k in keys])
        up = better_when_higher(name)  # judge.* are higher-is-better
        oriented = None if est.value is None or up is None else (
            est.value if up else -est.value)
        rows.append({"metric": name, "kind": "judge" if name.startswith(JUDGE_PREFIX)
                     else "metric", "higher_is_better": up, **est.as_dict(),
                     "agreement": oriented})

    def rank(r: dict[str, Any]) -> tuple[int, float]:
        if r["agreement"] is not None:
            return (0, -r["agreement"])
        return (1 if r["value"] is not None else 2, -abs(r["value"] or 0.0))

    return sorted(rows, key=rank)


def _strengths(pairs: dict[tuple[str, str], dict[str, list[float]]],
               items: list[dict[str, Any]], bradley_terry: Any) -> dict[str, Any]:
    variants: dict[str, list[str]] = defaultdict(list)
    input_of: dict[str, str] = {}
    for i in items:
        if i["variant"] not in variants[i["key"]]:
            variants[i["key"]].append(i["variant"])
        input_of[i["key"]] = i["input_id"]
    matches: list[tuple[str, str, float, str]] = []
    for (k1, k2), by_rater in pairs.items():
        va = next(iter(variants.get(k1, [])), None)
        vb = next((v for v in variants.get(k2, []) if v != va), None)
        if va is None or vb is None:
            continue
        for votes in by_rater.values():
            matches.extend((va, vb, v, input_of.get(k1, k1)) for v in votes)
    if not matches:
        return {}
    return {v: est.as_dict() for v, est in bradley_terry(matches).items()}


def _verdict(outcome: float) -> str:
    return "first" if outcome > 0.5 else "second" if outcome < 0.5 else "tie"


def _judge_agreement(calls: dict[str, list[Judgment]],
                     pairs: dict[tuple[str, str], dict[str, list[float]]], share: Any
                     ) -> list[dict[str, Any]]:
    from harness.judges.kinds import pair_outcomes

    verdicts: dict[str, dict[tuple[str, str], float]] = {}
    for judge, judged in calls.items():
        # the judge's own outcome of a pair: both orders combined, mean over repeats
        tuples = [(j.item_key, j.other_key, j.repeat, j.swapped, j.value) for j in judged]
        for (a, b), v in pair_outcomes(tuples).items():
            k1, k2 = sorted((a, b))
            verdicts.setdefault(judge, {})[(k1, k2)] = v if a == k1 else 1.0 - v
    rows = []
    for judge, by_pair in sorted(verdicts.items()):
        both = [p for p in by_pair if p in pairs]
        if not both:
            continue
        agree = sum(
            _verdict(by_pair[p]) == _verdict(_mean([v for vs in pairs[p].values()
                                                           for v in vs]))
            for p in both)
        rows.append({"judge": judge, **share(agree, len(both)).as_dict(),
                     "what": "share of the pairs people rated where the judge's verdict "
                             "(which text won, or a tie) equals theirs"})
    return sorted(rows, key=lambda r: -(r["value"] or 0.0))
