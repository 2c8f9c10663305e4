"""The Python API: what the CLI does, as functions returning plain data (docs/api.md).

    import harness
    result = harness.run("suites/poetry.yaml", limit=1)
    summary = harness.summary(result.run.id)
    harness.compare(summary)                      # variants of one run, paired
    harness.samples(result.run.id)                # every sample with its scores
    harness.score(["a text", "another"], ["distinct_2", "self_bleu"])
    harness.check("suites/poetry.yaml", "baseline.json").passed   # the CI gate

Every function takes ``store`` (default ``results/harness.sqlite``, as the CLI) where it
reads or writes runs. Nothing here imports torch until a model is needed. Bad input is one
family of errors, ``InputError`` (``harness.errors``): an argument of the wrong type or
value (the message names it) and its subclasses ``SuiteError``, ``StoreError``,
``ReportError``, ``GateError`` and ``UnknownName`` (an unknown metric; also a
``KeyError``). ``BackendError`` is a failed backend. Arguments are checked before any store
is opened or model loaded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from harness.errors import InputError

if TYPE_CHECKING:
    from harness.generate.runner import Progress, RunResult
    from harness.stats.gate import CheckResult
    from harness.suite.schema import Suite
    from harness.summarize.model import Summary

DEFAULT_STORE = Path("results/harness.sqlite")


class ReportError(InputError, ValueError):
    """A file is not a harness JSON report (or baseline)."""


def _path(value: Any, name: str) -> Path:
    """``value`` as a path, or ``InputError`` naming the argument."""
    if isinstance(value, str | Path) and str(value).strip() and "\0" not in str(value):
        return Path(value)
    raise InputError(f"{name} must be a file path (str or pathlib.Path), not "
                     f"{_shown(value)}")


def _ref(value: Any, name: str = "ref") -> str:
    """A run reference: an id, a prefix or ``latest``."""
    if isinstance(value, str) and value.strip():
        return value
    raise InputError(f"{name} must be a run id, a prefix of one or 'latest' (a non-empty "
                     f"str), not {_shown(value)}")


def _count(value: Any, name: str) -> int:
    """A whole number of at least 1."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise InputError(f"{name} must be a whole number of at least 1, not {_shown(value)}")


def _choice(value: Any, name: str, allowed: Sequence[str]) -> str:
    if isinstance(value, str) and value in allowed:
        return value
    raise InputError(f"{name} must be one of {', '.join(allowed)}, not {_shown(value)}")


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    raise InputError(f"{name} must be True or False, not {_shown(value)}")


def _optional_str(value: Any, name: str) -> str | None:
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    raise InputError(f"{name} must be a non-empty str or None, not {_shown(value)}")


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{text[:60]}..." if len(text) > 60 else f"{text} ({type(value).__name__})"


def load_suite(path: str | Path, allow_paths: Sequence[str | Path] = (),
               allow_env: Sequence[str] = ()) -> Suite:
    """Read and validate a suite file (``SuiteError`` names file:line:col when bad)."""
    from harness.suite.load import load_suite as _load

    return _load(path, allow_paths, allow_env)


class RunOptions(TypedDict, total=False):
    """How ``run`` and ``check`` generate: every option of the CLI's ``run``, each
    defaulting to the suite's (``None``)."""

    backend: str | None  # hf, vllm, openai or auto
    model: str | None  # an alias, a directory or a hub id
    limit: int | None  # only the first N inputs
    dtype: str | None  # hf weights: float32 or bfloat16
    no_cache: bool  # regenerate what the store has
    batch_size: int | None  # rows decoded together (hf)
    concurrency: int | None  # parallel requests (openai)
    executor: str | None  # local or ray
    replicas: int | None  # Ray engine replicas
    ray_address: str | None  # a Ray cluster to join (implies executor="ray")
    adaptive: bool  # race the cells (docs/statistics.md)
    progress: Progress | None  # callbacks for a front end (a progress bar)


def _run_options(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` checked against ``RunOptions`` (``InputError`` naming a bad one)."""
    for name, value in options.items():
        if name not in RunOptions.__annotations__:
            raise InputError(f"{name} is not an option of run; the options are: "
                             + ", ".join(RunOptions.__annotations__))
        if value is None or name == "progress":
            continue
        if name in ("limit", "batch_size", "concurrency", "replicas"):
            _count(value, name)
        elif name in ("no_cache", "adaptive"):
            _flag(value, name)
        elif name == "executor":
            _choice(value, name, ("local", "ray"))
        else:
            _optional_str(value, name)
    return options


def run(suite: str | Path | Suite, *, store: str | Path = DEFAULT_STORE,
        **options: Unpack[RunOptions]) -> RunResult:
    """Run a suite (a path or a loaded ``Suite``): generate what the store lacks, score,
    and return the ``RunResult`` (``.run``, ``.summary``, ``.generated``, ``.cached``).
    ``options``: see ``RunOptions``."""
    from harness.generate.runner import run_suite
    from harness.store.tables import Store

    given = _suite(suite)
    store = _path(store, "store")
    _run_options(dict(options))
    loaded = load_suite(given) if isinstance(given, Path) else given
    st = Store(store)
    try:
        return run_suite(loaded, st, **options)
    finally:
        st.close()


def _suite(value: Any) -> Suite | Path:
    """A loaded ``Suite`` or a suite file's path (``InputError`` for anything else),
    checked before any file is read."""
    from harness.suite.schema import Suite

    return value if isinstance(value, Suite) else _path(value, "suite")


def check(suite: str | Path | Suite,
          baseline: str | Path | dict[str, Any] | Summary | None = None, *,
          store: str | Path = DEFAULT_STORE, metrics: Sequence[str] = (),
          tolerance: float = 0.1, allow_other_suite: bool = False,
          **options: Unpack[RunOptions]) -> CheckResult:
    """The CI gate: run ``suite`` (reusing the store; ``options`` as for ``run``), then
    judge its ``checks:`` and, with a ``baseline`` (a JSON report or baseline file, or a
    summary), the regression of ``metrics`` (default: the plot's axes) beyond
    ``tolerance`` × the baseline's scale (docs/statistics.md). Returns a ``CheckResult``:
    ``.passed``, ``.checks``, ``.regressions``, ``.summary``, ``.markdown()``. Raises
    ``GateError`` when there is nothing to check or nothing can be compared."""
    from harness.stats.gate import gate

    given = _suite(suite)
    metrics = _texts(metrics, "metrics")
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float):
        raise InputError(f"tolerance must be a number, not {_shown(tolerance)}")
    from harness.summarize.model import Summary

    if isinstance(baseline, Summary):
        baseline = baseline.as_json()
    if isinstance(baseline, dict):
        base: dict[str, Any] | None = report_shape(baseline, "argument baseline")
    else:
        base = None if baseline is None else load_report(_path(baseline, "baseline"))
    _run_options(dict(options))
    loaded = load_suite(given) if isinstance(given, Path) else given
    result = run(loaded, store=store, **options)
    judged = gate(result.summary, loaded.checks, base, metrics, tolerance,
                  allow_other_suite=allow_other_suite)
    return replace(judged, run=result)


def summary(ref: str | Path = "latest", *, store: str | Path = DEFAULT_STORE,
            samples: bool = True) -> Summary:
    """The typed summary of a run (``harness.summarize.model.Summary``,
    docs/summary.schema.json): a run id (or a prefix, or ``latest``) in ``store``, as stored
    when the run ended (``harness.summarize.stored``), or a JSON report/baseline file.
    ``summary.as_json()`` is the JSON report."""
    from harness.store.tables import Store
    from harness.summarize.model import Summary
    from harness.summarize.stored import summary_of

    if not isinstance(ref, Path):
        ref = _ref(ref)
    if str(ref).endswith(".json") and Path(ref).exists():
        return Summary.model_validate(load_report(Path(ref), need_run=True))
    st = Store(_path(store, "store"), readonly=True)
    try:
        return summary_of(st, str(ref), samples=samples)
    finally:
        st.close()


def compare(a: str | Path | dict[str, Any] | Summary,
            b: str | Path | dict[str, Any] | Summary | None = None, *,
            store: str | Path = DEFAULT_STORE, by: str = "variant",
            reference: str | None = None, show_all: bool = False) -> dict[str, Any]:
    """Paired comparison. With ``b``: B − A per cell and metric over shared inputs. Without:
    the variants (``by="variant"``) or grid points (``by="grid"``) of ``a`` against a
    reference. ``a``/``b`` are run ids, JSON report files or summaries. Rows carry the
    difference, its FCR-adjusted interval, n and a Benjamini–Hochberg adjusted p-value;
    metrics that are the same everywhere and bookkeeping ones are left out unless
    ``show_all``."""
    from harness.stats.comparisons import compare_runs, compare_within

    by = _choice(by, "by", ("variant", "grid"))
    _optional_str(reference, "reference")
    _flag(show_all, "show_all")

    def read(x: Any, name: str) -> dict[str, Any]:
        from harness.summarize.model import Summary

        if isinstance(x, Summary):
            x = x.as_json()
        if isinstance(x, dict):
            return report_shape(x, f"argument {name}", need_run=True)
        if not isinstance(x, str | Path):
            raise InputError(f"{name} must be a run id, a JSON report file or a summary "
                             f"(dict), not {_shown(x)}")
        return summary(x, store=store, samples=False).as_json()

    sa = read(a, "a")
    if b is None:
        return compare_within(sa, by=by, reference=reference, show_all=show_all)
    return compare_runs(sa, read(b, "b"), show_all=show_all)


def runs(*, store: str | Path = DEFAULT_STORE, limit: int = 20) -> list[dict[str, Any]]:
    """The newest runs of a store, newest first, as plain records."""
    from harness.store.tables import Store
    from harness.summarize.build import run_info

    limit = _count(limit, "limit")
    st = Store(_path(store, "store"), readonly=True)
    try:
        return [{**run_info(r), "n_generated": r.n_generated} for r in st.runs(limit)]
    finally:
        st.close()


def samples(ref: str = "latest", *, store: str | Path = DEFAULT_STORE) -> list[dict[str, Any]]:
    """Every sample of a run as a plain record: key, variant, input_id, cell, grid,
    sample_index, messages, text, finish_reason, completion_tokens and its metric
    ``scores``."""
    from harness.store.tables import Store

    ref = _ref(ref)
    st = Store(_path(store, "store"), readonly=True)
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
    from harness.metrics.scoring import split_metrics

    texts = _texts(texts, "texts")
    metrics = _texts(metrics, "metrics")
    for name, value in (("prompt", prompt), ("scorer", scorer), ("embedder", embedder)):
        if value is not None and not isinstance(value, str):
            raise InputError(f"{name} must be a str or None, not {_shown(value)}")
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


def _texts(value: Any, name: str) -> list[str]:
    """A list of strings: a str itself is refused (it would be read as its characters)."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise InputError(f"{name} must be a list of str, not {_shown(value)}"
                         + (f"; for one, pass [{name[:-1]}]" if isinstance(value, str) else ""))
    out = list(value)
    for i, v in enumerate(out):
        if not isinstance(v, str):
            raise InputError(f"{name}[{i}] must be a str, not {_shown(v)}")
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

    from harness.summarize.model import Summary, check_version

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
