"""The race section of an adaptive run's report (``summary["race"]``, built by
``harness.generate.sweep.replay``) as plain rows that Markdown, HTML and the terminal lay out."""

from __future__ import annotations

from typing import Any

from harness.report.format import MISSING, num

RACE_HEADERS = ("cell", "status", "inputs", "objective mean [anytime 95% CI]",
                "difference from the leader [the race's anytime CI]", "why")


def race_note(summary: dict[str, Any]) -> str:
    """What the race decided, what it used, and what its intervals are."""
    race = summary.get("race")
    if not race:
        return ""
    objs = ", ".join(f"{o['metric']} (margin {o['margin']:g}"
                     + ("" if o["bounded"] else "; unbounded: compared by the share of "
                        "inputs each cell wins") + ")" for o in race["objectives"])
    alpha = race["alpha"]
    k = len(race["cells"])
    return (f"Adaptive sweep on {objs}, goal {race['goal']}: {race['stopped']}. "
            f"{race['generations']:,} generations in {len(race['rounds'])} rounds of inputs, "
            f"against {race['fixed_design']:,} for every cell on every input "
            f"({race['saved']:.0%} saved). A cell is dropped when an anytime-valid test "
            f"(betting confidence sequence over per-input paired differences, "
            f"Waudby-Smith & Ramdas 2023) at {alpha:g}/{max(k - 1, 1)} says another cell "
            f"beats it by more than the margin, valid at every look; the chance of "
            f"dropping a truly best cell is at most {alpha:g}. The intervals here are "
            f"anytime-valid; the cells table's ordinary intervals are not, after a race "
            f"(the stopping biases them).")


def race_rows(summary: dict[str, Any]) -> list[tuple[str, ...]]:
    """One row per cell: status, inputs seen, the objective's mean with its anytime-valid
    interval (bounded metrics), the difference from the leader, and why it was dropped."""
    race = summary.get("race")
    if not race:
        return []
    rows: list[tuple[str, ...]] = []
    for c in race["cells"]:
        mean = num(c.get("mean"))
        if c.get("lo") is not None:
            mean += f" [{num(c['lo'])}, {num(c['hi'])}]"
        diff = c.get("diff")
        gap = (MISSING if not diff else
               f"[{num(diff['lo'])}, {num(diff['hi'])}]"
               + (f" vs {diff['vs']}" if diff.get("vs") else ""))
        status = str(c["status"]) + (f" (round {c['round']})" if c.get("round") else "")
        why = (f"beaten by {c['by']}: {c['reason']}" if c.get("by") else "")
        rows.append((str(c["cell"]), status, str(c["inputs"]), mean, gap, why))
    return rows
