"""Expanding a suite into requests: a pure function, no I/O, no model.

variants × inputs × sampling-grid points × sample indices, in that nesting order. A *cell*
is one variant at one grid point; its samples are all inputs × sample indices.
"""

from __future__ import annotations

import itertools
from typing import Any

from harness.records import CellId, Request, SamplingParams, content_key, derive_seed
from harness.suite.prompts import Ranker, build_messages, render_constraints, select_examples
from harness.suite.schema import Suite


def grid_points(suite: Suite) -> list[dict[str, Any]]:
    """Return the cartesian product of the suite's sampling axes, in declaration order."""
    axes = list(suite.sampling.items())
    if not axes:
        return [{}]
    return [dict(zip([a for a, _ in axes], combo, strict=True))
            for combo in itertools.product(*[values for _, values in axes])]


def cell_id(variant: str, point: dict[str, Any]) -> str:
    """Return the display id of a cell, e.g. ``persona|temperature=0.7``."""
    return CellId.of(variant, point).label


def backend_key(backend: str, dtype: str) -> str:
    """The backend as it enters request keys: ``hf:bfloat16`` for a bfloat16 hf model,
    whose texts differ from float32's; the name itself otherwise."""
    return f"hf:{dtype}" if backend == "hf" and dtype != "float32" else backend


def plan(suite: Suite, model: str | None = None, backend: str = "hf", limit: int | None = None,
         ranker: Ranker | None = None, dtype: str | None = None) -> list[Request]:
    """Return every request of ``suite``; ``limit`` keeps only the first N inputs.

    The request key hashes the model, backend, rendered messages, sampling parameters,
    sample index and suite seed (and the hf ``dtype`` when it is not float32, whose texts
    differ): two variants that render the same chat share generations,
    and changing one variant changes only that variant's keys.
    """
    model = model or suite.model
    backend = backend_key(backend, dtype or suite.dtype)
    inputs = suite.inputs[:limit] if limit else suite.inputs
    requests = []
    for prompt in suite.prompts:
        for point in grid_points(suite):
            cell = cell_id(prompt.id, point)
            params = _params(suite, point)
            k = point.get("fewshot_k")
            for inp in inputs:
                examples = select_examples(prompt, suite.examples, inp, suite.seed,
                                           None if k is None else int(k), ranker)
                messages = tuple((m["role"], m["content"])
                                 for m in build_messages(prompt, inp, examples))
                constraints = render_constraints(prompt, inp)
                for index in range(suite.samples):
                    key = content_key({"model": model, "backend": backend,
                                       "messages": messages, "params": params.as_dict(),
                                       "sample": index, "seed": suite.seed})
                    requests.append(Request(
                        key=key, model=model, messages=messages, params=params,
                        sample_index=index, seed=derive_seed(suite.seed, key),
                        variant=prompt.id, input_id=inp.id, cell=cell,
                        grid=tuple(point.items()),
                        examples=tuple(e.output for e in examples),
                        reference=inp.reference, input_text=inp.text,
                        constraints=constraints))
    return requests


def _params(suite: Suite, point: dict[str, Any]) -> SamplingParams:
    """The suite's defaults with the grid point's sampling axes set (validated again, so a
    grid's ``40.0`` for a whole-number axis becomes 40, as it enters the key)."""
    axes = SamplingParams.axes()
    return SamplingParams.model_validate(
        {**suite.defaults.model_dump(), **{k: v for k, v in point.items() if k in axes}})
