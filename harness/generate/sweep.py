"""The adaptive sweep: rounds of inputs through generation and scoring, with the decisions
of ``harness.stats.race`` between them.

One loop (``race``) serves both the run and the summary. During ``harness run`` its
``fetch`` generates and scores a round's requests; when a stored run is summarised, its
``fetch`` reads the per-input values the run stored, so the race is replayed with the same
order, values and decisions (a killed race resumes the same way: every generation of the
finished rounds comes from the store). The order of inputs is drawn once from the suite's
seed and kept in the run's config.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from harness.metrics import METRICS
from harness.metrics.direction import better_when_higher
from harness.stats.race import Objective, RaceState, mean_interval

Values = Mapping[str, Mapping[str, Mapping[str, float]]]  # cell -> metric -> input -> value


def race_config(adaptive: Any, input_ids: Sequence[str], seed: int) -> dict[str, Any]:
    """The race's settings as stored in the run's config: the suite's ``adaptive`` block
    and the seeded order in which inputs are drawn."""
    order = list(input_ids)
    random.Random(f"race|{seed}").shuffle(order)
    return {"objectives": adaptive.objectives, "margins": adaptive.margins,
            "goal": adaptive.goal, "alpha": adaptive.alpha, "budget": adaptive.budget,
            "batch": adaptive.batch, "order": order}


def objectives(config: Mapping[str, Any]) -> list[Objective]:
    out = []
    for name, margin in zip(config["objectives"], config["margins"], strict=True):
        spec = METRICS[name]
        lo, hi = spec.bounds
        bounds = (float(lo), float(hi)) if lo is not None and hi is not None else None
        out.append(Objective(name, bool(better_when_higher(name)), bounds, float(margin)))
    return out


def race(config: Mapping[str, Any], cells: Sequence[str], samples: int,
         fetch: Callable[[list[str], list[str]], Values | None],
         log: Callable[[str], None] = lambda s: None) -> tuple[RaceState, str, int]:
    """Run (or replay) a race over ``cells``; return its state, why it stopped and the
    generations it used. ``fetch(inputs, cells)`` returns ``{cell: {metric: {input:
    value}}}`` for a round, or None when the round cannot be had (a replay past the rounds
    the run made)."""
    state = RaceState(list(cells), objectives(config), goal=config["goal"],
                      alpha=config["alpha"])
    order, batch, budget = list(config["order"]), config["batch"], config["budget"]
    used = 0
    for start in range(0, len(order), batch):
        inputs = order[start:start + batch]
        alive = state.survivors
        cost = len(alive) * len(inputs) * samples
        if budget is not None and used + cost > budget:
            return state, f"budget of {budget} generations spent ({used} used)", used
        values = fetch(inputs, alive)
        if values is None:
            return state, "stopped", used
        used += cost
        state.add_round(inputs, values)
        log(f"race round {len(state.rounds)}: {len(inputs)} inputs × {len(alive)} cells; "
            f"{len(state.survivors)} left")
        if state.decided():
            return state, _decided(state), used
    return state, f"inputs ran out (all {len(order)} drawn)", used


def _decided(state: RaceState) -> str:
    if state.goal == "baseline":
        return "decided: every cell has a verdict against the baseline"
    if len(state.survivors) == 1:
        return f"decided: {state.survivors[0]} is the best"
    return "decided: the cells left are tied within the margin"


def replay(config: Mapping[str, Any], summary: Mapping[str, Any], samples: int
           ) -> dict[str, Any]:
    """The race section of a stored run's summary: the race replayed from the per-input
    values its cells hold (``summary["cells"][...]["metrics"][m]["inputs"]``)."""
    cells = [c["cell"] for c in summary["cells"]]
    by_cell = {c["cell"]: c for c in summary["cells"]}
    names = config["objectives"]

    def fetch(inputs: list[str], alive: list[str]) -> Values | None:
        out: dict[str, dict[str, dict[str, float]]] = {}
        for cell in alive:
            metrics = by_cell[cell]["metrics"]
            for name in names:
                per_input = (metrics.get(name) or {}).get("inputs") or {}
                out.setdefault(cell, {})[name] = {i: per_input[i] for i in inputs
                                                  if i in per_input}
        # a round the run never made: no surviving cell has a value on its inputs
        return out if any(v for m in out.values() for v in m.values()) else None

    state, why, used = race(config, cells, samples, fetch)
    return section(state, why, used, len(cells) * len(config["order"]) * samples)


def section(state: RaceState, why: str, used: int, fixed: int) -> dict[str, Any]:
    """What a report shows of a race: why it stopped, the generations used against the
    fixed design, each round's inputs, and each cell's fate with its anytime-valid
    intervals."""
    obj = state.objectives[0]
    leader = _leader(state, obj)
    rows = []
    for cell in state.cells:
        values = list(state.values.get(cell, {}).get(obj.metric, {}).values())
        row: dict[str, Any] = {"cell": cell, "inputs": len(values),
                               "mean": sum(values) / len(values) if values else None}
        if obj.bounds is not None and values:
            row["lo"], row["hi"] = mean_interval(values, obj.bounds, state.alpha)
        if state.goal == "baseline":
            v = state.verdicts.get(cell)
            row["status"] = "baseline" if cell == state.cells[0] else (
                v.decision if v else "undecided")
            row["round"] = v.round if v else None
            if v:
                row["diff"] = {"lo": v.lo, "hi": v.hi}
        elif cell in state.dropped:
            d = state.dropped[cell]
            row.update(status="dropped", round=d.round, by=d.by, reason=d.reason)
        else:
            row["status"] = "left"
        if leader and cell != leader and state.goal == "best":
            lo, hi, n = state.interval(cell, leader, obj)
            row["diff"] = {"vs": leader, "lo": lo, "hi": hi, "n": n}
        rows.append(row)
    return {"stopped": why, "generations": used, "fixed_design": fixed,
            "saved": 1 - used / fixed if fixed else 0.0,
            "goal": state.goal, "alpha": state.alpha,
            "objectives": [{"metric": o.metric, "margin": o.margin,
                            "bounded": o.bounds is not None} for o in state.objectives],
            "rounds": state.rounds, "cells": rows, "leader": leader}


def _leader(state: RaceState, obj: Objective) -> str | None:
    """The surviving cell with the best mean on the (first) objective."""
    best, best_v = None, None
    for cell in state.survivors:
        vals = list(state.values.get(cell, {}).get(obj.metric, {}).values())
        if not vals:
            continue
        v = sum(vals) / len(vals) * (1 if obj.higher_is_better else -1)
        if best_v is None or v > best_v:
            best, best_v = cell, v
    return best
