"""Running a suite's judges inside ``harness run``: plan the calls, generate the missing ones
on the judge's backend (stored in ``generations`` like any generation, so a re-run asks
nothing again), parse every answer and record it in ``judgments``.

The values become the per-item metric ``judge.<name>`` (``harness.judges.calls.
item_values``); the reliability numbers are computed from ``judgments`` when a summary is
built (``harness.judges.reliability``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from harness.backends import Backend
from harness.judges.calls import item_values, panel_values, plan_calls, verdict
from harness.records import Request, unique
from harness.store.tables import Judgment, Store
from harness.suite.load import SuiteError
from harness.suite.prompts import TemplateProblem
from harness.suite.schema import Judge, Suite

# (backend name, model, judge) -> a ready backend; the runner reuses its own engine when
# the judge runs on the same model and backend
GetBackend = Callable[[str, str, Judge], Backend]
Generate = Callable[[Any, list[Request]], int]  # (generations, todo) -> tokens, stores them


def judge_target(judge: Judge, backend: str, model: str) -> tuple[str, str]:
    """(backend, model) the judge runs on: its own (``auto`` resolved), else the run's."""
    from harness.backends import resolve_backend_name

    return resolve_backend_name(judge.backend or backend), judge.model or model


def run_judges(suite: Suite, store: Store, run_id: str, requests: Sequence[Request],
               texts: dict[str, str], *, backend: str, model: str, backend_key: Callable[
                   [str], str], get_backend: GetBackend, generate: Generate,
               log: Callable[[str], None] = lambda m: None,
               stats: dict[str, int] | None = None) -> dict[str, dict[str, float]]:
    """Run every judge of ``suite`` on the run's items; return {metric: {item key: value}}.

    ``backend_key(name)`` is the backend as it enters request keys (``hf:bfloat16`` for a
    bfloat16 hf model); ``generate(generations, todo)`` stores generations as they come
    (the runner's own, with its progress bar). ``stats`` gains ``calls`` (every judge's
    distinct calls) and ``asked`` (those not in the store, asked now)."""
    inputs = {i.id: i.model_dump() for i in suite.inputs}
    out: dict[str, dict[str, float]] = {}
    planned = []  # every judge's calls, planned before any is asked
    for judge in suite.judges:
        if judge.spec.combines:
            continue  # a panel: from its members' values, below
        name, judge_model = judge_target(judge, backend, model)
        try:
            calls = plan_calls(judge, requests, texts, inputs, model=judge_model,
                               backend=backend_key(name), seed=suite.seed)
        except TemplateProblem as exc:  # `harness validate` checks for this; a text can
            # still push a template past its output limit
            raise SuiteError(f"judges: {judge.name}: {exc.field}: {exc}") from None
        planned.append((judge, name, judge_model, calls))
    for judge, name, judge_model, calls in planned:
        todo = unique(store.missing([c.request for c in calls]))
        distinct = len({c.request.key for c in calls})  # the same question is asked once
        log(f"judge {judge.name} ({judge.kind}, {judge_model} on {name}): {len(calls)} calls, "
            f"{distinct - len(todo)} of {distinct} distinct ones in the store")
        if stats is not None:
            stats["calls"] = stats.get("calls", 0) + distinct
            stats["asked"] = stats.get("asked", 0) + len(todo)
        if todo:
            engine = get_backend(name, judge_model, judge)
            generate(engine.generate(todo), todo)
        answers = store.generations([c.request.key for c in calls])
        rows = [Judgment(c.item_key, c.other_key, c.repeat, int(c.swapped), c.request.key,
                         verdict(c, answers.get(c.request.key, ""))) for c in calls]
        store.save_judgments(run_id, judge.name, rows)
        unread = sum(1 for r in rows if r.value is None)
        if unread:
            log(f"judge {judge.name}: {unread} of {len(rows)} answers could not be read "
                "(left out, counted in the report)")
        out[judge.metric] = item_values(judge.kind, [
            (r.item_key, r.other_key, r.repeat, r.swapped, r.value) for r in rows])
    by_name = {j.name: j for j in suite.judges}
    for panel in (j for j in suite.judges if j.spec.combines):
        out[panel.metric] = panel_values([by_name[m] for m in panel.of], out)
    return out
