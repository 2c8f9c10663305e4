"""The CI gate: a suite's absolute checks, and regressions against a baseline that fail
only when they can be told from noise.

- Absolute checks (``distinct_2 >= 0.3``) compare each cell's mean with the threshold, as
  written: no allowance for noise (a cell whose interval straddles the threshold passes or
  fails on its mean).
- Relative checks (the suite's ``max_increase`` / ``max_decrease``, and the regression
  rows of ``harness check --baseline``) are one-sided paired t-tests over the inputs the
  run and the baseline share: H0 "worse by at most the allowed change" against H1 "worse
  by more". A regression row's allowed change is ``tolerance`` × the metric's scale in the
  baseline: the larger of |mean| and the standard deviation over inputs, both over the
  shared inputs (so a metric whose mean is near 0 still has a margin). A row fails when
  its Holm-adjusted p-value is below ``alpha``; Holm runs across every relative row of
  the gate, so an unchanged prompt fails the whole gate with probability at most
  ``alpha`` (family-wise). Each row says the smallest worsening it would catch with 80%
  power (``mdc``) and, when the estimate is worse than allowed but not beyond noise, how
  many inputs would decide it.
- A row's ``value`` and ``baseline`` are the means over the inputs it tests (those both
  have); ``not_judged`` lists the others. A cell, grid point or metric the baseline does
  not have is reported as ``new``: not judged, not failed.
- The gate refuses (``GateError``, exit 2) what it cannot judge: a baseline of another
  suite (unless allowed), no shared cell, per-input values missing, a set metric whose set
  size (samples per input) changed — set metrics move with set size alone.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from harness.errors import InputError
from harness.judges.reliability import missing_reason
from harness.metrics import METRICS
from harness.metrics.direction import better_when_higher
from harness.stats.comparisons import inputs_phrase, set_size
from harness.stats.intervals import (
    ALPHA,
    MIN_PAIRS,
    adjust,
    inputs_needed,
    min_detectable,
    paired_test,
)
from harness.suite.evaluation import Check

if TYPE_CHECKING:
    from harness.generate.runner import RunResult

POWER = 0.8
PASS, FAIL, NEW = "pass", "FAIL", "new"


class GateError(InputError, ValueError):
    """The gate cannot judge anything (no shared cells, unknown metric, old baseline)."""


def run_checks(summary: dict[str, Any], checks: Sequence[Check],
               baseline: dict[str, Any] | None, metrics: Sequence[str] = (),
               tolerance: float = 0.1, alpha: float = ALPHA,
               allow_other_suite: bool = False) -> list[dict[str, Any]]:
    """Return one row per (check, cell): absolute checks, then relative ones.

    With ``baseline``, ``metrics`` (default: the plot's x and y axes) are judged for
    regressions with relative ``tolerance``. Raises ``GateError`` when a baseline is given
    but nothing can be compared with it, or it should not be (another suite, without
    ``allow_other_suite``; a set metric at another set size).
    """
    own, regressions = _judge(summary, checks, baseline, metrics, tolerance, alpha,
                              allow_other_suite)
    return own + regressions


def _judge(summary: dict[str, Any], checks: Sequence[Check], baseline: dict[str, Any] | None,
           metrics: Sequence[str], tolerance: float, alpha: float, allow_other_suite: bool
           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``run_checks`` as two lists: the suite's checks (absolute, then relative) and the
    regression rows against the baseline. One Holm adjustment runs across every relative
    row of both, so the split changes no row."""
    # a cell the metric does not apply to (no constraint, persona, reference) has no row
    rows = [_absolute(check, cell, summary) for check in checks if check.op is not None
            for cell in _cells(summary, check)
            if check.metric in cell["metrics"] or check.metric not in summary["metrics"]]
    # (check or None for a regression row, metric, bad direction, allowed change or None,
    #  relative tolerance or None)
    relative: list[tuple[Check | None, str, str, float | None, float | None]] = [
        (c, c.metric, "increase" if c.max_increase is not None else "decrease",
         c.max_increase if c.max_increase is not None else c.max_decrease, None)
        for c in checks if c.op is None]
    base_cells = {c["cell"]: c for c in (baseline or {}).get("cells", [])}
    if baseline is not None:
        _check_baseline(summary, baseline, base_cells)
        _check_suite(summary, baseline, allow_other_suite)
        relative += [(None, m, bad, None, tolerance) for m, bad in _regressed(summary, metrics)]
    pending: list[tuple[bool, dict[str, Any]]] = []  # (a regression row?, row)
    if baseline is not None:
        _check_set_sizes(summary, base_cells, {metric for _, metric, *_ in relative})
    for check, metric, bad, allowed, rel in relative:
        for cell in _cells(summary, check):
            pending.append((check is None, _relative(check, metric, bad, allowed, rel, cell,
                                                     base_cells.get(cell["cell"]), alpha,
                                                     summary)))
    tested = [r for _, r in pending if r["p"] is not None]
    judged_rows = [r for _, r in pending if r["status"] != NEW and r["baseline"] is not None]
    if baseline is not None and judged_rows and not tested:
        raise GateError(f"no baseline comparison can be tested: a paired test needs at least "
                        f"{MIN_PAIRS} inputs shared with the baseline per cell "
                        f"({judged_rows[0]['reason']})")
    level = alpha / max(1, len(tested))  # Holm's first step: the MDC is for this level
    for (_, row), p_adj in zip(pending, adjust([r["p"] for _, r in pending], "holm"),
                               strict=True):
        _decide(row, p_adj, alpha, level)
    return (rows + [r for regression, r in pending if not regression],
            [r for regression, r in pending if regression])


def _regressed(summary: dict[str, Any], metrics: Sequence[str]) -> list[tuple[str, str]]:
    """The metrics judged against the baseline, each with the direction that is worse;
    default: the plot's axes that have a better direction (a length axis has none)."""
    judged = list(metrics) or [m for m in (summary["pareto"]["x"], summary["pareto"]["y"])
                               if m and better_when_higher(m) is not None]
    if not judged:
        raise GateError("nothing to judge against the baseline: the plot's axes have no "
                        "better direction; name metrics with --metric")
    out = []
    for m in judged:
        if m not in summary["metrics"]:
            raise GateError(f"metric {m!r} is not computed by this suite; it computes: "
                            + ", ".join(summary["metrics"]))
        up = better_when_higher(m)
        if up is None:
            raise GateError(f"metric {m!r} has no better direction; judge it with a "
                            "max_increase/max_decrease check instead")
        out.append((m, "decrease" if up else "increase"))
    return out


@dataclass(frozen=True)
class CheckResult:
    """What the gate decided on one run: ``harness check`` and ``harness.check``.

    ``checks`` are the suite's own checks and ``regressions`` the rows judged against the
    baseline (empty without one); ``rows`` is both, failing rows first, as every report
    shows them. ``summary`` is the run's summary with those rows as its ``checks``, so the
    reports written from it show the gate."""

    run_id: str
    summary: dict[str, Any]
    checks: list[dict[str, Any]]
    regressions: list[dict[str, Any]]
    notes: list[str]  # what the rows mean, for the foot of their table
    run: RunResult | None = None  # the run ``harness.check`` made (None: a stored summary)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """Every row: failing first, then new ones, otherwise in the order judged."""
        return sorted(self.checks + self.regressions,
                      key=lambda r: (r["passed"], r["status"] != NEW))

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if not r["passed"]]

    @property
    def passed(self) -> bool:
        """No check and no regression failed (new rows are not judged, so never fail)."""
        return not self.failed

    def count_line(self) -> str:
        """``8/12 checks passed, 4 new (not judged)``."""
        rows = self.rows
        new = sum(r["status"] == NEW for r in rows)
        return (f"{len(rows) - len(self.failed) - new}/{len(rows)} checks passed"
                + (f", {new} new (not judged)" if new else ""))

    def markdown(self) -> str:
        """The run's Markdown report with the gate's rows (failed first) and their notes:
        what a CI step summary shows (``$GITHUB_STEP_SUMMARY``)."""
        from harness.report.markdown import render_markdown  # late: report comes after stats

        return (render_markdown(self.summary, self.rows) + "\n"
                + "".join(f"- {line}\n" for line in self.notes))


def gate(summary: dict[str, Any], checks: Sequence[Check], baseline: dict[str, Any] | None,
         metrics: Sequence[str] = (), tolerance: float = 0.1, alpha: float = ALPHA,
         allow_other_suite: bool = False) -> CheckResult:
    """The CI gate on a run's ``summary``: the rows of ``run_checks`` and the footer that
    explains them. Raises ``GateError`` when there is nothing to check (no ``checks`` and
    no ``baseline``) or nothing can be judged."""
    own, regressions = _judge(summary, checks, baseline, metrics, tolerance, alpha,
                              allow_other_suite)
    if not own and not regressions:
        raise GateError(f"{summary['run'].get('suite') or 'the suite'}: nothing to check: the "
                        "suite has no `checks:` and no --baseline was given")
    result = CheckResult(summary["run"]["id"], summary, own, regressions,
                         footer(tolerance if baseline is not None else None, alpha))
    # the reports written from the summary show the gate's rows, failed first
    return replace(result, summary={**summary, "checks": result.rows})


def footer(tolerance: float | None, alpha: float = ALPHA) -> list[str]:
    """What the gate's rows mean, for the foot of its table (terminal and Markdown)."""
    lines = ["absolute checks (metric >= value): each cell's mean against the threshold, as "
             "written, with no allowance for noise."]
    lines.append("relative rows: one-sided paired t-test over the inputs shared with the "
                 f"baseline, Holm-adjusted across rows; a row fails when p_adj < {alpha:g}. "
                 "value/baseline are means over those shared inputs; mdc = the smallest "
                 f"worsening caught with {POWER:.0%} power.")
    if tolerance is not None:
        lines.append(f"tolerance {tolerance:g}: a regression row may get worse by {tolerance:g}"
                     " × the baseline's scale for that cell (the larger of |mean| and the SD "
                     "over inputs), before noise; max_increase/max_decrease checks allow "
                     "the amount they name.")
    lines.append("new: a cell, grid point or metric the baseline does not have; reported, "
                 "not judged.")
    return lines


def _cells(summary: dict[str, Any], check: Check | None) -> list[dict[str, Any]]:
    return [c for c in summary["cells"]
            if check is None or not check.variant or c["variant"] == check.variant]


def _absolute(check: Check, cell: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    row = _row(check.describe(), cell["cell"])
    m = cell["metrics"].get(check.metric)
    if m is None:
        row["reason"] = missing_reason(summary, check.metric)
        return row
    row["value"] = m["mean"]
    assert check.op is not None and check.value is not None
    row["passed"] = _holds(m["mean"], check.op, check.value)
    row["status"] = PASS if row["passed"] else FAIL
    if not row["passed"]:
        row["reason"] = f"{m['mean']:.4g} violates {check.op} {check.value:g}"
    return row


def _row(check: str, cell: str) -> dict[str, Any]:
    return {"check": check, "cell": cell, "value": None, "baseline": None, "passed": False,
            "status": FAIL, "reason": "", "p": None, "p_adj": None, "n_inputs": 0,
            "worse_by": None, "allowed": None, "mdc": None, "more_inputs": None, "sd": None,
            "not_judged": [], "new_inputs": []}


def _check_suite(summary: dict[str, Any], baseline: dict[str, Any], allowed: bool) -> None:
    ours = (summary.get("run") or {}).get("suite")
    run = baseline.get("run") or {}
    # a file without a run gets its path as id and suite (harness.api.report_shape)
    theirs = run.get("suite") if run.get("suite") != run.get("id") else None
    if ours and theirs and ours != theirs and not allowed:
        raise GateError(f"the baseline is a run of suite {theirs!r}, this is suite {ours!r}: "
                        "matching cell and input ids would be compared as if they were the "
                        "same; pass --allow-other-suite if they are")


def _check_baseline(summary: dict[str, Any], baseline: dict[str, Any],
                    base_cells: dict[str, Any]) -> None:
    if not base_cells:
        raise GateError("the baseline has no cells: nothing to compare with")
    shared = [c for c in summary["cells"] if c["cell"] in base_cells]
    if not shared:
        raise GateError("the baseline shares no cell with this run (baseline cells: "
                        + ", ".join(sorted(base_cells)[:5]) + "); was it made from this suite?")
    has_inputs = any(m.get("inputs") for c in base_cells.values()
                     for m in c.get("metrics", {}).values())
    if not has_inputs:
        raise GateError("the baseline has no per-input values (it was written by an older "
                        "harness); write it again with `harness baseline RUN -o FILE`")


def _check_set_sizes(summary: dict[str, Any], base_cells: dict[str, Any],
                     metrics: set[str]) -> None:
    """Refuse to judge a set metric whose samples per input differ from the baseline's."""
    moved = []
    for cell in summary["cells"]:
        base = base_cells.get(cell["cell"])
        for metric in sorted(metrics):
            spec = METRICS.get(metric)
            cur = cell["metrics"].get(metric)
            old = (base or {}).get("metrics", {}).get(metric)
            if (spec is None or spec.kind == "sample" or cur is None or old is None
                    or not old.get("n") or not cur.get("n")):  # no sample count: unknown
                continue
            if set_size(cur) != set_size(old):
                moved.append(f"{metric} in {cell['cell']}: {set_size(old):g} samples per "
                             f"input in the baseline, {set_size(cur):g} now")
    if moved:
        raise GateError("set metrics move with the number of samples per input (Self-BLEU "
                        "rises, distinct-n falls as sets grow), so a change of `samples` "
                        "would be judged as a regression of the prompt: " + "; ".join(moved[:3])
                        + ("; …" if len(moved) > 3 else "") + ". Write a new baseline after "
                        "changing samples (`harness baseline RUN -o FILE`), or judge only "
                        "per-sample metrics (--metric)")


def _relative(check: Check | None, metric: str, bad: str, allowed: float | None,
              rel: float | None, cell: dict[str, Any], base_cell: dict[str, Any] | None,
              alpha: float, summary: dict[str, Any]) -> dict[str, Any]:
    label = check.describe() if check is not None else (
        f"{metric} no worse than baseline (tolerance {rel:.0%})")
    row = _row(label, cell["cell"])
    cur = cell["metrics"].get(metric)
    base = (base_cell or {}).get("metrics", {}).get(metric)
    if cur is None:
        row["reason"] = missing_reason(summary, metric)
        return row
    row["value"] = cur["mean"]
    if base is None:
        row.update(passed=True, status=NEW,
                   reason=("new cell: not in the baseline, not judged" if base_cell is None
                           else f"new metric: {metric} is not in the baseline, not judged"))
        return row
    old, new = base.get("inputs") or {}, cur.get("inputs") or {}
    shared = [k for k in new if k in old]
    row["new_inputs"] = sorted(set(new) - set(old))
    row["not_judged"] = row["new_inputs"] + sorted(set(old) - set(new))
    if shared:  # the row's numbers are over the inputs it tests
        row["value"] = statistics.fmean(new[k] for k in shared)
        row["baseline"] = statistics.fmean(old[k] for k in shared)
    else:
        row["baseline"] = base["mean"]
    if allowed is not None:
        margin = allowed
    else:
        vals = [old[k] for k in shared]
        spread = statistics.stdev(vals) if len(vals) > 1 else 0.0
        margin = (rel or 0.0) * max(abs(row["baseline"]), spread)
    row["allowed"] = margin
    # worsening per input is new - old (increase is bad) or old - new (decrease is bad)
    a, b = (old, new) if bad == "increase" else (new, old)
    t = paired_test(a, b, alpha=alpha, margin=margin, alternative="greater")
    row.update(p=t.p, n_inputs=t.n_pairs, worse_by=t.diff, sd=t.sd)
    if t.p is None:
        row["passed"], row["status"] = True, PASS
        row["reason"] = (f"not judged: {inputs_phrase(t.n_pairs)} shared with the baseline, "
                         f"a test needs {MIN_PAIRS}") + _unjudged(row)
    return row


def _unjudged(row: dict[str, Any]) -> str:
    """The inputs a row could not judge: added since the baseline, or missing now."""
    added = row["new_inputs"]
    gone = [k for k in row["not_judged"] if k not in added]
    parts = []
    if added:
        parts.append(f"{inputs_phrase(len(added))} not in the baseline ("
                     + ", ".join(added[:4]) + (", …" if len(added) > 4 else "") + ")")
    if gone:
        parts.append(f"{inputs_phrase(len(gone), 'baseline input')} missing here ("
                     + ", ".join(gone[:4]) + (", …" if len(gone) > 4 else "") + ")")
    return "; not judged: " + " and ".join(parts)


def _decide(row: dict[str, Any], p_adj: float | None, alpha: float, level: float) -> None:
    if row["p"] is None:
        return
    row["p_adj"] = p_adj
    n, sd, worse, margin = row["n_inputs"], row["sd"], row["worse_by"], row["allowed"]
    if sd is not None and sd > 0:
        row["mdc"] = margin + (min_detectable(sd, n, level, POWER) or math.inf)
    row["passed"] = not (p_adj is not None and p_adj < alpha)
    row["status"] = PASS if row["passed"] else FAIL
    over = f"over {inputs_phrase(n)}"
    if not row["passed"]:
        row["reason"] = (f"worse by {worse:.4g} (allowed {margin:.4g}); p_adj {p_adj:.2g} "
                         f"{over}")
    elif sd == 0 and worse == 0:
        row["reason"] = f"identical to the baseline {over}"
    elif worse > margin:
        need = inputs_needed(sd or 0.0, worse - margin, level, POWER)
        row["more_inputs"] = None if need is None else max(0, need - n)
        row["reason"] = (f"worse by {worse:.4g} > allowed {margin:.4g} but within noise "
                         f"(p_adj {p_adj:.2g} {over}); "
                         + (f"about {need} inputs would decide it" if need else
                            "no practical number of inputs would decide it"))
    else:
        row["reason"] = (f"{'worse' if worse > 0 else 'better'} by {abs(worse):.4g}; "
                         f"allowed {margin:.4g} ({over})")
    row["reason"] += _unjudged(row)


def _holds(value: float, op: str, bound: float) -> bool:
    if math.isnan(value):
        return False
    return {"<=": value <= bound, ">=": value >= bound, "<": value < bound,
            ">": value > bound}[op]
