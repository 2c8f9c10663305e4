"""What a suite asks of a run besides generating: its checks (the CI gate's rules), the
prices of tokens, and the adaptive sweep's settings. Pydantic models, strict like the rest
of the suite's schema (``harness.suite.schema``)."""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Check(_Strict):
    """A pass/fail rule on a cell metric: ``metric op value`` for every matching cell, or
    ``max_increase`` / ``max_decrease`` relative to a baseline."""

    metric: str
    op: Literal["<=", ">=", "<", ">"] | None = None
    value: float | None = None
    variant: str | None = None
    max_increase: float | None = None
    max_decrease: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _parse_string(cls, data: Any) -> Any:
        if isinstance(data, str):
            m = re.fullmatch(r"\s*([\w.]+)\s*(<=|>=|<|>)\s*(-?[\d.]+(?:e-?\d+)?)\s*", data)
            if not m:
                raise ValueError(f"expected 'metric <= number' (or >=, <, >), got {data!r}")
            return {"metric": m[1], "op": m[2], "value": float(m[3])}
        return data

    @model_validator(mode="after")
    def _complete(self) -> Check:
        absolute = self.op is not None and self.value is not None
        relative = self.max_increase is not None or self.max_decrease is not None
        if not (absolute or relative):
            raise ValueError("a check needs `op` and `value`, or `max_increase`/`max_decrease`")
        return self

    def describe(self) -> str:
        scope = f" [{self.variant}]" if self.variant else ""
        if self.op is not None:
            return f"{self.metric}{scope} {self.op} {self.value:g}"
        if self.max_increase is not None:
            return f"{self.metric}{scope} rises at most {self.max_increase:g} over baseline"
        return f"{self.metric}{scope} falls at most {self.max_decrease:g} below baseline"


# the largest price per million tokens: 1e9 of any currency is far above any real price,
# and keeps every cost finite (1e308 would overflow to infinity once multiplied by tokens)
MAX_PRICE = 1e9


class Price(_Strict):
    """What a model's tokens cost, in your currency per million tokens: finite, from 0 to
    ``MAX_PRICE``."""

    input: float = Field(0.0, ge=0, le=MAX_PRICE, allow_inf_nan=False)
    output: float = Field(0.0, ge=0, le=MAX_PRICE, allow_inf_nan=False)


class Adaptive(_Strict):
    """An adaptive sweep (``harness.stats.race``): inputs are drawn ``batch`` at a time in a
    seeded order, every surviving cell runs on them, and a cell is dropped once an
    anytime-valid test says it is beaten (docs/statistics.md, "Races")."""

    objective: str | list[str] = "distinct_2"  # metric(s); several: a Pareto race
    goal: Literal["best", "baseline"] = "best"
    margin: float | list[float] = Field(0.0)  # differences below it are ties; one per objective
    alpha: float = Field(0.05, gt=0, lt=0.5)
    budget: int | None = Field(None, ge=1)  # at most this many generations
    batch: int = Field(4, ge=1, le=10_000)  # new inputs per round

    @property
    def objectives(self) -> list[str]:
        return [self.objective] if isinstance(self.objective, str) else list(self.objective)

    @property
    def margins(self) -> list[float]:
        m = self.margin
        return [float(m)] * len(self.objectives) if isinstance(m, (int, float)) else list(m)

    @model_validator(mode="after")
    def _shape(self) -> Adaptive:
        if not self.objectives:
            raise ValueError("objective: name at least one metric")
        if len(set(self.objectives)) != len(self.objectives):
            raise ValueError("objective: a metric is named twice")
        if len(self.margins) != len(self.objectives):
            raise ValueError(f"margin: give one margin, or one per objective "
                             f"({len(self.objectives)})")
        if any(not math.isfinite(m) or m < 0 for m in self.margins):
            raise ValueError("margin: must be a finite number >= 0")
        if self.goal == "baseline" and len(self.objectives) > 1:
            raise ValueError("goal baseline takes one objective")
        return self
