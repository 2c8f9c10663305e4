"""A stored run's summary: what reports render, ``harness baseline`` saves and
``harness check`` compares (``harness.summarize.cells.summarize`` over the store's scores), with
the run's judges, token use and the sample viewer's rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.judges.calls import describe_judge
from harness.metrics import Resources, SampleContext
from harness.store.tables import Run, Store
from harness.suite.schema import judges_of
from harness.summarize.cells import best_by_grid, summarize
from harness.summarize.usage import usage_section

ANSWER_CLASS = "answer_class"  # stored with the item scores; not a metric


def build_summary(store: Store, run_id: str, samples: bool = True) -> dict[str, Any]:
    """Return the summary of a stored run (what reports render), with the plot axes and
    source corpus recorded in the run's config and bootstrap seed 0, so the same run always
    gives the same summary.

    With ``samples``, the summary also lists every sample with its prompt, text, scores and
    the character ranges it shares verbatim (at least ``OVERLAP_MIN_TOKENS`` tokens) with
    its prompt, few-shot examples or the ``sources`` corpus, for the report's sample viewer.
    """
    run = store.run(run_id)
    items = store.run_items(run.id)
    sample, sets, pooled = store.run_scores(run.id)
    classes = {k: int(v.pop(ANSWER_CLASS)) for k, v in sample.items() if ANSWER_CLASS in v}
    judges = judges_of(run.config)
    described = {j.metric: describe_judge(j) for j in judges}
    scored = sample
    sheets = store.sheets(run.id)
    if sheets:  # human ratings are per-sample values like the metrics (rated items only)
        from harness.stats.ratings import describe_human, human_item_scores

        described.update(describe_human(sheets))
        human = human_item_scores(store, run.id)
        scored = {k: {**sample.get(k, {}), **human.get(k, {})} for k in {*sample, *human}}
    summary = summarize(run_info(run), items, scored, sets, plot=run.config.get("plot"),
                        pooled=pooled, described=described)
    if sheets:
        from harness.stats.ratings import human_section

        summary["human"] = human_section(store, run.id, sample, items)
    if judges:
        from harness.judges.reliability import judge_agreement, judge_section

        summary["judges"] = judge_section(judges, store.judgments(run.id), items, sample,
                                          run.model, run.backend)
        if sum(not j.spec.combines for j in judges) > 1:
            summary["judge_agreement"] = judge_agreement(judges, sample, items)
    if "adaptive" in run.config:  # an adaptive run: its race, replayed from the values
        from harness.generate.sweep import replay

        per_set: dict[tuple[str, str], int] = {}
        for item in items:
            key = (item["cell"], item["input_id"])
            per_set[key] = per_set.get(key, 0) + 1
        summary["race"] = replay(run.config["adaptive"], summary,
                                 max(per_set.values(), default=1))
    add_derived(summary)
    summary["usage"] = usage_section(store.usage(run.id), run.config.get("prices", {}))
    if run.profile:
        summary["profile"] = run.profile
    if samples:
        sources = [Path(p) for p in run.config.get("sources", []) if Path(p).exists()]
        summary["samples"] = _samples(items, scored, Resources(source_paths=sources))
        for s in summary["samples"]:
            if s["key"] in classes:
                s["answer_class"] = classes[s["key"]]
    return summary


def add_derived(summary: dict[str, Any]) -> dict[str, Any]:
    """Add (in place, and return) what the reports show beyond the cells, computed here
    once so that no renderer computes a statistic: ``comparisons``, every variant against
    the first at each grid point (``harness.stats.comparisons.compare_within``: the rows `harness
    compare` prints; None with one variant), and ``best``
    (``harness.summarize.cells.best_by_grid``)."""
    from harness.stats.comparisons import compare_within

    several = len({c["variant"] for c in summary["cells"]}) > 1
    summary["comparisons"] = compare_within(summary, by="variant") if several else None
    summary["best"] = best_by_grid(summary)
    return summary


OVERLAP_MIN_TOKENS = 5


def _samples(items: list[dict[str, Any]], scores: dict[str, dict[str, float]],
             resources: Resources) -> list[dict[str, Any]]:
    from harness.metrics import verbatim_overlaps

    out = []
    for item in items:
        text = item["text"] or ""
        examples = [m["content"] for m in item["messages"] if m["role"] == "assistant"]
        ctx = SampleContext(messages=item["messages"],
                            prompt_text="\n".join(m["content"] for m in item["messages"]),
                            examples=examples)
        out.append({**{k: item[k] for k in ("key", "cell", "variant", "input_id", "grid",
                                              "sample_index", "messages", "finish_reason",
                                              "completion_tokens")},
                    "text": text, "scores": scores.get(item["key"], {}),
                    "overlaps": [list(r) for r in verbatim_overlaps(
                        text, ctx, resources, min_tokens=OVERLAP_MIN_TOKENS)]})
    return out


def run_info(run: Run) -> dict[str, Any]:
    return {"id": run.id, "suite": run.suite_name, "suite_path": run.suite_path,
            "suite_hash": run.suite_hash, "model": run.model, "backend": run.backend,
            "harness_version": run.harness_version, "git_commit": run.git_commit,
            "started_at": run.started_at, "finished_at": run.finished_at,
            "status": run.status, "n_requests": run.n_requests}
