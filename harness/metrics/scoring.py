"""Scoring texts with named metrics, with the store as a cache.

One code path for ``harness run`` (texts from the store, grouped by cell and input) and
``harness score`` (texts from a JSONL file, grouped by their ``group`` field).
Per-sample values are cached in ``scores`` by (generation key, metric, version, context),
where the context hashes exactly what the metric reads besides the text (the scorer model,
the reference, the source corpus, the input and few-shot examples, the prompt's
format constraints); per-group values in
``set_scores`` by (hash of the group's generation keys, metric, version). A fully cached
re-run therefore loads no model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import InputError, UnknownName
from harness.metrics import (
    METRICS,
    Resources,
    SampleContext,
    applies,
    pool_values,
    score_cell,
    score_samples,
    score_set,
    with_weights,
)
from harness.records import content_key
from harness.store.tables import Store


@dataclass
class ScoreItem:
    """One text to score: its generation key (None outside a run), the set it belongs to
    (set-level metrics are computed per group) and its context."""

    text: str
    group: Hashable
    context: SampleContext
    key: str | None = None


@dataclass
class Scores:
    """Per-sample values (aligned with the items; None where the metric does not apply,
    ``harness.metrics.applies``) and per-group set-level values."""

    sample: dict[str, list[float | None]] = field(default_factory=dict)
    groups: dict[Hashable, dict[str, float]] = field(default_factory=dict)
    # each group's answer class per member (same order), when an equivalence metric ran
    labels: dict[Hashable, list[int]] = field(default_factory=dict)


def split_metrics(names: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """Return (sample-level, set-level, cell-level) names; raise ``UnknownName`` (a
    ``KeyError``) for an unknown metric."""
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        valid = ", ".join(sorted(METRICS))
        raise UnknownName(f"unknown metric {unknown[0]!r}; valid metrics: {valid}")
    return tuple([n for n in names if METRICS[n].kind == kind]  # type: ignore[return-value]
                 for kind in ("sample", "set", "cell"))


def sources_signature(paths: Sequence[Path]) -> str:
    """Return a hash of the source corpus files' contents (empty string when none)."""
    if not paths:
        return ""
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.name).encode())
        h.update(Path(p).read_bytes())
    return h.hexdigest()[:16]


def compute_scores(items: Sequence[ScoreItem], metrics: Sequence[str], resources: Resources,
                   store: Store | None = None, scorer_id: str = "", sources_sig: str = "",
                   on_metric: Callable[[str], None] | None = None) -> Scores:
    """Score ``items`` with ``metrics``, reusing and filling the store's caches."""
    sample_names, set_names, cell_names = split_metrics(metrics)
    out = Scores()
    for name in sample_names:
        if on_metric:
            on_metric(name)
        spec = METRICS[name]
        model_ids = _model_ids(spec.needs, resources)  # once per metric, not per item
        contexts = [_context_id(spec.needs, it.context, scorer_id, sources_sig, model_ids)
                    for it in items]
        keys = [it.key for it in items if it.key]
        apply = [applies(spec, it.context) for it in items]
        # the store caches these values only when every item has a generation key
        cache = store if store is not None and len(keys) == len(items) else None
        found: list[float | None]
        if cache is not None:
            cached = cache.sample_scores(keys, name, spec.version, contexts)
            todo = [i for i, key in enumerate(keys) if key not in cached and apply[i]]
            found = [cached.get(key, 0.0) if a else None
                     for key, a in zip(keys, apply, strict=True)]
        else:
            todo = [i for i in range(len(items)) if apply[i]]
            found = [0.0 if a else None for a in apply]
        if todo:
            fresh = score_samples([name], [items[i].text for i in todo],
                                  [items[i].context for i in todo], resources)[name]
            for i, v in zip(todo, fresh, strict=True):
                found[i] = v
            if cache is not None:
                cache.add_sample_scores(name, spec.version,
                                        [(keys[i], contexts[i], float(v))
                                         for i, v in zip(todo, fresh, strict=True)])
        out.sample[name] = found
    groups: dict[Hashable, list[ScoreItem]] = {}
    for it in items:
        groups.setdefault(it.group, []).append(it)
    for name in set_names:
        if on_metric:
            on_metric(name)
        spec = METRICS[name]
        for group, members in groups.items():
            set_key = _set_key(members, spec.needs, resources)
            value = store.set_score(set_key, name, spec.version) if store else None
            if value is None:
                value = score_set([name], [m.text for m in members], resources)[name]
                if store is not None and all(m.key for m in members):
                    store.add_set_score(set_key, name, spec.version, value)
            out.groups.setdefault(group, {})[name] = value
    judged = [METRICS[n] for n in set_names if "equivalence" in METRICS[n].needs]
    if judged:
        out.labels = _answer_classes(groups, judged[0].needs, resources, store)
    # cell-level metrics look across the groups of one cell: a run's groups are
    # (cell, input) pairs; other groups (``harness score``) form one cell
    cells: dict[Hashable, list[Hashable]] = {}
    for group in groups:
        cells.setdefault(group[0] if isinstance(group, tuple) else "", []).append(group)
    for name in cell_names:
        if on_metric:
            on_metric(name)
        spec = METRICS[name]
        for cell_groups in cells.values():
            member_keys = [sorted(m.key or m.text for m in groups[g]) for g in cell_groups]
            cell_key = content_key({"cell": member_keys, **_model_ids(spec.needs, resources)})
            stored = [store.set_score(content_key({"cell": cell_key, "input": i}), name,
                                      spec.version) if store else None
                      for i in range(len(cell_groups))]
            if any(v is None for v in stored):
                values = score_cell([name], [[m.text for m in groups[g]] for g in cell_groups],
                                    resources)[name]
                if store is not None and all(m.key for g in cell_groups for m in groups[g]):
                    for i, v in enumerate(values):
                        store.add_set_score(content_key({"cell": cell_key, "input": i}), name,
                                            spec.version, v)
            else:
                values = [float(v) for v in stored if v is not None]
            for g, v in zip(cell_groups, values, strict=True):
                out.groups.setdefault(g, {})[name] = v
    return out


def _answer_classes(groups: dict[Hashable, list[ScoreItem]], needs: Sequence[str],
                    resources: Resources, store: Store | None) -> dict[Hashable, list[int]]:
    """Each group's partition into answer classes (``harness.metrics.novelty``), cached in
    ``set_scores`` (metric ``answer_class``, one row per member) so a cached re-run's
    report groups near-duplicates without loading the embedder."""
    from harness.metrics.novelty import answer_classes

    out: dict[Hashable, list[int]] = {}
    for group, members in groups.items():
        base = _set_key(members, needs, resources)
        row_keys = [content_key({"labels": base, "i": i}) for i in range(len(members))]
        cached = [store.set_score(k, "answer_class", 1) for k in row_keys] if store else []
        if store is not None and all(v is not None for v in cached):
            out[group] = [int(v) for v in cached if v is not None]
            continue
        labels = answer_classes([m.text for m in members], resources)
        if store is not None and all(m.key for m in members):
            for k, label in zip(row_keys, labels, strict=True):
                store.add_set_score(k, "answer_class", 1, float(label))
        out[group] = labels
    return out


def _set_key(members: Sequence[ScoreItem], needs: Sequence[str], resources: Resources) -> str:
    """The cache key of a set: its generation keys (or texts) and the models it is judged
    with."""
    return content_key({"keys": sorted(m.key or m.text for m in members),
                        **_model_ids(needs, resources)})


def _model_ids(needs: Sequence[str], resources: Resources) -> dict[str, str]:
    """What a metric's value depends on besides the texts: the embedder and the
    equivalence judge, by identity (empty for the defaults, so that caches written before
    either was configurable stay valid)."""
    from harness.metrics.embedding import DEFAULT_EMBEDDER, embedder_id

    out: dict[str, str] = {}
    if "embedder" in needs:
        eid = embedder_id(resources.embedder_name)
        if eid != DEFAULT_EMBEDDER:
            out["embedder"] = eid
        if "equivalence" in needs:
            from harness.metrics.novelty import judge_of

            out["equivalence"] = judge_of(resources).name
    return out


def _context_id(needs: Sequence[str], ctx: SampleContext, scorer_id: str, sources_sig: str,
                model_ids: dict[str, str] | None = None) -> str:
    parts: dict[str, object] = {"input": ctx.input_text, "examples": ctx.examples,
                                **(model_ids or {})}
    if "scorer" in needs:
        parts["scorer"] = scorer_id
    if "sources" in needs:
        parts["sources"] = sources_sig
    if "reference" in needs:
        parts["reference"] = ctx.reference
    if "constraints" in needs:
        parts["constraints"] = ctx.constraints
    return content_key(parts)[:16]


def score_file(path: Path, metrics: Sequence[str], scorer: str | None = None,
               sources: Sequence[Path] = (), embedder: str | None = None
               ) -> dict[str, dict[str, float]]:
    """Score the texts of a JSONL file; return ``{group or "all": {metric: value}}``.

    Each line is ``{"text": ..., "group": optional, "reference": optional,
    "prompt": optional}``. ``text`` must be a string; ``group``, ``reference`` and
    ``prompt`` must be strings when given (``null`` counts as absent). Groups must be
    strings because they are the keys of the result (and of ``--json``), where ``1`` and
    ``"1"`` would both become ``"1"``: a number is refused, not silently merged with the
    string. Per-sample metrics are pooled over the group (averaged; perplexity
    token-weighted) and absent from a group none of whose texts they apply to (BLEU
    without a reference); set-level metrics are computed over it. ``embedder``: the
    sentence-embedding model (alias or directory) for the embedding metrics. The metric
    names, the file and the ``sources`` (UTF-8 text files, or ``.jsonl`` with a ``"text"``
    per line) are all checked before anything is scored. Raises
    ``FileNotFoundError``/``InputError`` for bad input (the CLI's exit 2), naming the file
    and line.
    """
    import json

    def read_text(p: Path, what: str) -> str:
        # the UTF-8 text of a file (BOM dropped); missing, a directory, unreadable or
        # not UTF-8 text (a NUL byte counts as binary) is bad input naming the path
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such {what}")
        if p.is_dir():
            raise InputError(f"{p}: is a directory, not a {what}")
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise InputError(f"{p}: cannot read it ({exc.strerror or exc})") from None
        try:
            if b"\0" in data:
                at = data.index(b"\0")
                raise UnicodeDecodeError("utf-8", data, at, at + 1, "NUL byte")
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            why = f"{exc.reason} at byte {exc.start}"
            raise InputError(f"{p}: not UTF-8 text ({why})" if what == "file" else
                           f"{p}: not a UTF-8 text file ({why}); a {what} must be UTF-8 text"
                           " or JSONL") from None

    def json_object(line: str, where: str) -> dict:
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):  # JSONDecodeError, >4300-digit ints, nesting
            row = None
        if not isinstance(row, dict) or "text" not in row:
            raise InputError(f'{where}: expected a JSON object with a "text" field')
        return row

    def string_field(row: dict, name: str, where: str) -> str:
        # a string; a missing field, null, any other JSON type, or a string with a lone
        # surrogate escape ("\ud800"), is bad input naming the line
        value = row.get(name)
        if not isinstance(value, str):
            kind = ("a boolean" if isinstance(value, bool) else
                    "a number" if isinstance(value, int | float) else
                    "a list" if isinstance(value, list) else
                    "an object" if isinstance(value, dict) else "null")
            hint = (f"; quote it: \"{name}\": \"{json.dumps(value)}\""
                    if name == "group" and kind == "a number" else "")
            raise InputError(f'{where}: "{name}" must be a string, not {kind}{hint}')
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(f'{where}: "{name}" is not valid Unicode (a lone surrogate '
                           "escape such as \\ud800)") from None
        return value

    def optional_string(row: dict, name: str, where: str) -> str | None:
        # a string, or None when absent or null; otherwise as string_field
        return None if row.get(name) is None else string_field(row, name, where)

    path = Path(path)
    if not list(metrics):
        raise InputError("no metrics given; name at least one (see `harness metrics`)")
    split_metrics(metrics)  # an unknown name is bad input before any file is read
    lines = read_text(path, "file").splitlines()
    for src in map(Path, sources):  # what Resources.sources will read, checked up front
        src_lines = read_text(src, "source file").splitlines()
        if src.suffix == ".jsonl":
            for n, line in enumerate(src_lines, 1):
                if line.strip():
                    json_object(line, f"{src}:{n}")
    items = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        row = json_object(line, where)
        text = string_field(row, "text", where)
        group = optional_string(row, "group", where)
        reference = optional_string(row, "reference", where)
        prompt = optional_string(row, "prompt", where) or ""
        messages = [{"role": "user", "content": prompt}] if prompt else []
        items.append(ScoreItem(text=text, group="all" if group is None else group,
                               context=SampleContext(messages=messages, prompt_text=prompt,
                                                     input_text=prompt,
                                                     reference=reference)))
    if not items:
        raise InputError(f"{path}: no texts")
    resources = Resources(source_paths=list(sources), embedder=embedder)
    if scorer:
        from harness.backends import make_backend

        resources.scorer = make_backend("hf", scorer)
    scores = compute_scores(items, with_weights(metrics), resources)
    result: dict[str, dict[str, float]] = {}
    for group_id in dict.fromkeys(it.group for it in items):
        idx = [i for i, it in enumerate(items) if it.group == group_id]
        values = {}
        for m, v in scores.sample.items():
            spec = METRICS[m]
            w = scores.sample.get(spec.weight) if spec.weight else None
            have = {i: x for i in idx if (x := v[i]) is not None}  # where the metric applies
            if have:
                weights = [float(w[i] or 0.0) for i in have] if w is not None else None
                values[m] = pool_values(spec, list(have.values()), weights)
        values.update(scores.groups.get(group_id, {}))
        # a metric that applies to none of the group's texts (e.g. BLEU without a
        # reference) is absent from its result
        result[str(group_id)] = {m: values[m] for m in metrics if m in values}
    return result
