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

# a number as it was computed or read: an int stays an int (pydantic would make 1 into 1.0,
# and a report read back would no longer dump as it was written)
Num = int | float


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class MetricValue(_Open):
    """A metric of a cell: the mean over inputs with its interval."""

    mean: Num | None = Field(description="the cell's value: the mean over its inputs")
    lo: Num | None = Field(None, description="95% interval, lower end (None: no interval)")
    hi: Num | None = Field(None, description="95% interval, upper end")
    n: int | None = Field(None, description="samples the value is computed over")
    n_inputs: int | None = Field(None, description="inputs the value is computed over")
    method: str | None = Field(None, description="how the interval was computed")
    inputs: dict[str, Num | None] | None = Field(
        None, description="the value per input (what paired comparisons and the gate use)")


class Cell(_Open):
    """One variant at one grid point (of one model): the identity is ``variant`` and
    ``grid`` (and ``model`` where a suite names several); ``cell`` is their label."""

    cell: str = Field(description="the cell's label: variant|axis=value,...")
    variant: str = ""
    grid: dict[str, Any] = Field(default_factory=dict, description="the grid point")
    model: str | None = Field(None, description="the model, where a run has several")
    n: int = Field(0, description="samples in the cell")
    n_inputs: int | None = None
    truncated: int | None = Field(
        None, description='samples cut by the token limit (finish_reason "length"); None: '
                          "not recorded")
    metrics: dict[str, MetricValue | Num | None]


class RunInfo(_Open):
    id: str
    suite: str
    suite_path: str | None = None
    suite_hash: str | None = None
    model: str | None = None
    backend: str | None = None
    harness_version: str | None = None
    git_commit: str | None = None
    started_at: Num | None = None
    finished_at: Num | None = None
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

    seconds: dict[str, Num]
    total_s: Num
    generated_tokens: int = 0
    tokens_per_s: Num | None = None


class Estimate(_Open):
    """A statistic with its 95% interval (``harness.stats.agreement.Estimate``)."""

    value: Num | None = Field(description="the estimate (None: not computable, see method)")
    lo: Num | None = None
    hi: Num | None = None
    n: int = Field(0, description="what it is computed over: items, calls, pairs")
    method: str = ""


class JudgeReport(_Open):
    """Whether to believe one judge (``harness.judges.reliability``, docs/judges.md)."""

    kind: str = Field(description="a registered judge kind: rubric, checklist, pairwise, "
                      "panel or a plugin's (harness.judges.registry)")
    model: str
    backend: str
    criterion: str | None = None
    scale: list[Num] | None = None
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
    cost: Num | None = Field(None, description="per the suite's prices; None if unpriced")


class Usage(_Open):
    """Tokens and cost of the run's generations and judge calls (``harness.summarize.usage``)."""

    rows: dict[str, UsageRow] = Field(description='"generation" and "judge <name>"')
    total: UsageRow
    note: str = ""


class CheckRow(_Open):
    """One check of one cell (``harness.stats.gate``): an absolute check as written, or a
    regression against the baseline that counts only when it can be told from noise."""

    check: str = Field(description="the check as written, or the regressed metric")
    cell: str
    value: Num | None = Field(None, description="the cell's mean over its inputs")
    baseline: Num | None = Field(None, description="the baseline cell's mean")
    passed: bool
    status: str = Field("", description="pass, fail, new, ...")
    reason: str = ""
    p: Num | None = Field(None, description="paired test p-value over shared inputs")
    p_adj: Num | None = Field(None, description="Holm-adjusted over the rows tested")
    n_inputs: int = Field(0, description="inputs shared with the baseline")
    mdc: Num | None = Field(None, description="the smallest change these inputs detect")


class Sample(_Open):
    """One generated sample, for the report's sample viewer."""

    key: str = Field(description="the request's content key")
    cell: str
    variant: str = ""
    input_id: str | int | None = None
    grid: dict[str, Any] = Field(default_factory=dict)
    sample_index: int = 0
    messages: list[dict[str, Any]] = Field(default_factory=list)
    text: str = ""
    finish_reason: str | None = None
    completion_tokens: int | None = None
    scores: dict[str, Num | None] = Field(default_factory=dict)
    overlaps: list[list[int]] = Field(
        default_factory=list, description="[start, end) character ranges copied verbatim")
    answer_class: int | None = Field(
        None, description="samples of one prompt with the same answer share a class")


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
        None, description="blinded human ratings (harness.stats.ratings.human_section): counts, "
        "inter-rater alpha, each metric's and judge's Spearman rho with the people")
    comparisons: dict[str, Any] | None = Field(
        None, description="every variant against the first at each grid point, paired by "
        "input with Benjamini-Hochberg adjusted p-values "
        "(harness.stats.comparisons.compare_within; "
        "what `harness compare RUN` prints); null with one variant")
    best: dict[str, dict[str, dict[str, Any]]] = Field(
        default_factory=dict, description="per metric and grid point: the variants best in "
        "it ({cells, clear}: clear when a single one's interval clears every other)")
    race: dict[str, Any] | None = Field(
        None, description="an adaptive run's race: rounds, drops and the decision "
        "(harness.stats.race)")
    checks: list[CheckRow] | None = Field(
        None, description="the suite's checks and baseline regressions, when checked")
    samples: list[Sample] = Field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The summary as the JSON report holds it: the fields that were set, so a summary
        read back from a file dumps as it was read."""
        return self.model_dump(mode="json", exclude_unset=True)


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
