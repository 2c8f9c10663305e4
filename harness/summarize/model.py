"""The summary's shape as pydantic models: what ``harness.summarize.cells.summarize`` builds, the
JSON report contains and a baseline file holds. Published as JSON Schema in
``docs/summary.schema.json`` (regenerate: ``python -m harness.summarize.model >
docs/summary.schema.json``; a test checks it is current).

Every model allows fields it does not name (a report may carry more than this schema
says), and the fields that older summaries lack are optional, so a baseline written by an
earlier harness still reads. A summary whose ``schema_version`` is higher than this
harness's was written by a newer harness and is refused (``check_version``).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.summarize.cells import SCHEMA_VERSION


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class MetricValue(_Open):
    """A metric of a cell: the mean over inputs with its interval."""

    mean: float | None = Field(description="the cell's value: the mean over its inputs")
    lo: float | None = Field(None, description="95% interval, lower end (None: no interval)")
    hi: float | None = Field(None, description="95% interval, upper end")
    n: int | None = Field(None, description="samples the value is computed over")
    n_inputs: int | None = Field(None, description="inputs the value is computed over")
    method: str | None = Field(None, description="how the interval was computed")
    inputs: dict[str, float | None] | None = Field(
        None, description="the value per input (what paired comparisons and the gate use)")


class Cell(_Open):
    """One variant at one grid point."""

    cell: str = Field(description="variant|axis=value,...")
    variant: str = ""
    grid: dict[str, Any] = Field(default_factory=dict)
    n: int = Field(0, description="samples in the cell")
    n_inputs: int | None = None
    truncated: int | None = Field(
        None, description='samples cut by the token limit (finish_reason "length"); None: '
                          "not recorded")
    metrics: dict[str, MetricValue | float | None]


class RunInfo(_Open):
    id: str
    suite: str
    suite_path: str | None = None
    suite_hash: str | None = None
    model: str | None = None
    backend: str | None = None
    harness_version: str | None = None
    git_commit: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    status: str | None = None
    n_requests: int | None = None


class Pareto(_Open):
    """The creativity–coherence frontier over the plot axes."""

    x: str | None = None
    y: str | None = None
    cells: list[str] = Field(default_factory=list, description="cells on the frontier")
    within_noise: list[str] = Field(
        default_factory=list, description="cells within noise of the frontier")
    excluded: dict[str, str] = Field(
        default_factory=dict, description="cells never on the frontier or best, and why "
                                          "(mostly degenerate, word salad)")
    note: str | None = Field(
        None, description="why there is no frontier (the axes are not a creativity-"
                          "coherence pair)")
    undecided: dict[str, Any] | None = Field(
        None, description="when most cells are on or within noise of the frontier: close, "
                          "of, n_inputs and inputs_needed to separate them")


class Profile(_Open):
    """Where the run's time went (``harness.generate.profile``)."""

    seconds: dict[str, float]
    total_s: float
    generated_tokens: int = 0
    tokens_per_s: float | None = None


class Estimate(_Open):
    """A statistic with its 95% interval (``harness.stats.agreement.Estimate``)."""

    value: float | None = Field(description="the estimate (None: not computable, see method)")
    lo: float | None = None
    hi: float | None = None
    n: int = Field(0, description="what it is computed over: items, calls, pairs")
    method: str = ""


class JudgeReport(_Open):
    """Whether to believe one judge (``harness.judges.reliability``, docs/judges.md)."""

    kind: str = Field(description="rubric, checklist, pairwise or panel")
    model: str
    backend: str
    criterion: str | None = None
    scale: list[float] | None = None
    repeats: int = 1
    calls: int
    unreadable: Estimate = Field(description="share of calls whose answer was not parsed")
    length_bias: Estimate | None = Field(
        None, description="Spearman rho of item value with length in words")
    repeat_agreement: Estimate | None = Field(
        None, description="Krippendorff's alpha over items, repeats as coders")
    position: dict[str, Estimate] | None = Field(
        None, description="pairwise: first_chosen (0.5 = no bias) and consistent orders")
    questions: list[dict[str, Any]] | None = Field(
        None, description="checklist: each question's pass rate over the answers read")
    strengths: dict[str, Estimate] | None = Field(
        None, description="pairwise: Bradley-Terry strength per variant (log scale, mean 0)")
    members: list[str] | None = Field(None, description="panel: the judges it averages")
    member_agreement: Estimate | None = Field(
        None, description="panel: Krippendorff's alpha over items, members (0-1) as coders")


class UsageRow(_Open):
    model: str = ""
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost: float | None = Field(None, description="per the suite's prices; None if unpriced")


class Usage(_Open):
    """Tokens and cost of the run's generations and judge calls (``harness.summarize.usage``)."""

    rows: dict[str, UsageRow] = Field(description='"generation" and "judge <name>"')
    total: UsageRow
    note: str = ""


class Summary(_Open):
    """A run's summary: the JSON report and the baseline format."""

    schema_version: int = Field(1, description=f"{SCHEMA_VERSION} for this harness")
    run: RunInfo
    cells: list[Cell]
    metrics: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="each metric's description, kind, source, direction")
    pareto: Pareto = Field(default_factory=Pareto)
    statistics: dict[str, Any] = Field(default_factory=dict,
                                       description="what the numbers are computed over")
    profile: Profile | None = None
    judges: dict[str, JudgeReport] | None = None
    judge_agreement: list[dict[str, Any]] | None = Field(
        None, description="Spearman rho between every two judges' item values")
    usage: Usage | None = None
    human: dict[str, Any] | None = Field(
        None, description="blinded human ratings (harness.humans.sheets.human_section): counts, "
        "inter-rater alpha, each metric's and judge's Spearman rho with the people")
    comparisons: dict[str, Any] | None = Field(
        None, description="every variant against the first at each grid point, paired by "
        "input with Benjamini-Hochberg adjusted p-values "
        "(harness.stats.comparisons.compare_within; "
        "what `harness compare RUN` prints); null with one variant")
    best: dict[str, dict[str, dict[str, Any]]] = Field(
        default_factory=dict, description="per metric and grid point: the variants best in "
        "it ({cells, clear}: clear when a single one's interval clears every other)")
    samples: list[dict[str, Any]] = Field(default_factory=list)


def check_version(data: dict[str, Any], where: str) -> None:
    """Raise ``ValueError`` when ``data`` was written by a newer harness."""
    version = data.get("schema_version", 1)
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise ValueError(f"{where}: written by a newer harness (summary schema "
                         f"{version}; this harness reads up to {SCHEMA_VERSION}); upgrade "
                         "the harness or write the file again with this one")


def json_schema() -> dict[str, Any]:
    return Summary.model_json_schema()


if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
