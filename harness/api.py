"""The Python API: what the CLI does, as functions returning plain data (docs/api.md).

    import harness
    result = harness.run("suites/poetry.yaml", limit=1)
    summary = harness.summary(result.run.id)
    harness.compare(summary)                      # variants of one run, paired
    harness.samples(result.run.id)                # every sample with its scores
    harness.score(["a text", "another"], ["distinct_2", "self_bleu"])

Every function takes ``store`` (default ``results/harness.sqlite``, as the CLI) where it
reads or writes runs. Nothing here imports torch until a model is needed. Errors are the
library's own: ``SuiteError``, ``StoreError``, ``ReportError``, ``KeyError`` for an
unknown metric, ``BackendError`` for a failed backend.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.runner import Progress, RunResult
    from harness.suite import Suite

DEFAULT_STORE = Path("results/harness.sqlite")


class ReportError(ValueError):
    """A file is not a harness JSON report (or baseline)."""


def load_suite(path: str | Path, allow_paths: Sequence[str | Path] = (),
               allow_env: Sequence[str] = ()) -> Suite:
    """Read and validate a suite file (``SuiteError`` names file:line:col when bad)."""
    from harness.suite import load_suite as _load

    return _load(path, allow_paths, allow_env)


def run(suite: str | Path | Suite, *, store: str | Path = DEFAULT_STORE,
        backend: str | None = None, model: str | None = None, limit: int | None = None,
        dtype: str | None = None, no_cache: bool = False,
        progress: Progress | None = None) -> RunResult:
    """Run a suite (a path or a loaded ``Suite``): generate what the store lacks, score,
    and return the ``RunResult`` (``.run``, ``.summary``, ``.generated``, ``.cached``)."""
    from harness.runner import run_suite
    from harness.store import Store

    loaded = load_suite(suite) if isinstance(suite, str | Path) else suite
    st = Store(store)
    try:
        return run_suite(loaded, st, backend=backend, model=model, limit=limit, dtype=dtype,
                         no_cache=no_cache, progress=progress)
    finally:
        st.close()


def summary(ref: str | Path = "latest", *, store: str | Path = DEFAULT_STORE,
            samples: bool = True) -> dict[str, Any]:
    """The summary of a run: a run id (or a prefix, or ``latest``) in ``store``, or a JSON
    report/baseline file. Its shape is ``harness.schema.Summary`` (docs/summary.schema.json)."""
    from harness.run_summary import build_summary
    from harness.store import Store

    if str(ref).endswith(".json") and Path(ref).exists():
        return load_report(Path(ref), need_run=True)
    st = Store(store, readonly=True)
    try:
        return build_summary(st, str(ref), samples=samples)
    finally:
        st.close()


def compare(a: str | Path | dict[str, Any], b: str | Path | dict[str, Any] | None = None, *,
            store: str | Path = DEFAULT_STORE, by: str = "variant",
            reference: str | None = None) -> dict[str, Any]:
    """Paired comparison. With ``b``: B − A per cell and metric over shared inputs. Without:
    the variants (``by="variant"``) or grid points (``by="grid"``) of ``a`` against a
    reference. ``a``/``b`` are run ids, JSON report files or summaries. Rows carry the
    difference, its 95% interval, n and a Benjamini–Hochberg adjusted p-value."""
    from harness.comparisons import compare_runs, compare_within

    sa = a if isinstance(a, dict) else summary(a, store=store, samples=False)
    if b is None:
        if by not in ("variant", "grid"):
            raise ValueError(f"by must be variant or grid, not {by!r}")
        return compare_within(sa, by=by, reference=reference)
    sb = b if isinstance(b, dict) else summary(b, store=store, samples=False)
    return compare_runs(sa, sb)


def runs(*, store: str | Path = DEFAULT_STORE, limit: int = 20) -> list[dict[str, Any]]:
    """The newest runs of a store, newest first, as plain records."""
    from harness.run_summary import run_info
    from harness.store import Store

    st = Store(store, readonly=True)
    try:
        return [{**run_info(r), "n_generated": r.n_generated} for r in st.runs(limit)]
    finally:
        st.close()


def samples(ref: str = "latest", *, store: str | Path = DEFAULT_STORE) -> list[dict[str, Any]]:
    """Every sample of a run as a plain record: key, variant, input_id, cell, grid,
    sample_index, messages, text, finish_reason, completion_tokens and its metric
    ``scores``."""
    from harness.store import Store

    st = Store(store, readonly=True)
    try:
        run_ = st.run(ref)
        scores, _, _ = st.run_scores(run_.id)
        return [{**item, "scores": scores.get(item["key"], {})}
                for item in st.run_items(run_.id)]
    finally:
        st.close()


def score(texts: Sequence[str], metrics: Sequence[str], *, prompt: str | None = None,
          scorer: str | None = None, embedder: str | None = None) -> dict[str, Any]:
    """Score texts outside any run. Per-sample metrics give a list (one value per text),
    set-level metrics one value over all the texts. ``prompt``: the user message the
    texts answer (for perplexity and relevance); ``scorer``: the model for perplexity."""
    from harness.errors import BadValue
    from harness.metrics import Resources, SampleContext, score_samples, score_set
    from harness.scoring import split_metrics

    sample_names, set_names, cell_names = split_metrics(metrics)
    if cell_names:
        raise BadValue(f"{cell_names[0]!r} compares inputs of a run; score it in a run")
    resources = Resources(embedder=embedder)
    if scorer:
        from harness.backends import make_backend

        resources.scorer = make_backend("hf", scorer)
    messages = [{"role": "user", "content": prompt}] if prompt else []
    ctx = SampleContext(messages=messages, prompt_text=prompt or "", input_text=prompt or "")
    out: dict[str, Any] = {}
    if sample_names:
        out.update(score_samples(sample_names, list(texts), [ctx] * len(texts), resources))
    if set_names:
        out.update(score_set(set_names, list(texts), resources))
    return out


def load_report(path: Path, need_run: bool = False) -> dict[str, Any]:
    """Read a JSON report or baseline file, checked for the shape the harness reads."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such baseline file") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not JSON, so not a JSON report ({exc.msg} at line "
                          f"{exc.lineno})") from None
    return report_shape(data, path, need_run)


def report_shape(data: Any, where: str | Path, need_run: bool = False) -> dict[str, Any]:
    """Return ``data`` if it is shaped like a harness JSON report (a mapping with a list of
    cells, each a mapping with a ``cell`` id and ``metrics``); else raise ``ReportError``."""
    def bad(why: str) -> ReportError:
        return ReportError(f"{where}: not a harness JSON report ({why}); write one with "
                           "`harness baseline RUN -o FILE` or `harness report RUN --format json`")

    if not isinstance(data, dict):
        raise bad(f"a JSON {type(data).__name__}, not an object")
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise bad("no list of `cells`")
    for i, c in enumerate(cells):
        if not (isinstance(c, dict) and isinstance(c.get("cell"), str)
                and isinstance(c.get("metrics"), dict)):
            raise bad(f"cells[{i}] is not a cell with `cell` and `metrics`")
    if need_run and not isinstance(data.get("run"), dict):
        raise bad("no `run`")
    from pydantic import ValidationError

    from harness.schema import Summary, check_version

    try:
        check_version(data, str(where))
    except ValueError as exc:
        raise ReportError(str(exc)) from None
    data.setdefault("run", {"id": str(where), "suite": str(where)})
    data.setdefault("metrics", {})
    data.setdefault("pareto", {"x": None, "y": None, "cells": []})
    try:
        Summary.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        at = ".".join(str(p) for p in first["loc"])
        raise bad(f"{at}: {first['msg']}") from None
    return data
