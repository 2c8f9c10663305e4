"""Suites: the YAML a user writes, parsed into the models of ``harness.suite.schema``.

``load_suite(path)`` reads the file with ``yaml.safe_load`` semantics (aliases that expand
past ``MAX_YAML_NODES`` refused), validates it against the schema (unknown keys are errors),
checks which files and variables it may reach, loads ``inputs_file`` and checks that every
template renders for every input (``harness.suite.templates``). Any problem raises
``SuiteError`` whose message names the file, the line and column, the field and what was
expected.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from harness.backends.server import Server
from harness.errors import InputError
from harness.suite.schema import InputSpec, Suite
from harness.suite.templates import judge_template_problems, template_problems


class SuiteError(InputError):
    """A suite is invalid. ``str(err)`` is one message for the user."""


# -- loading ---------------------------------------------------------------------------

KEY_NAME = re.compile(r"^[A-Z][A-Z0-9_]*(KEY|TOKEN|SECRET)$")


def load_suite(path: str | Path, allow_paths: Sequence[str | Path] = (),
               allow_env: Sequence[str] = ()) -> Suite:
    """Read, validate and return the suite at ``path``; raise ``SuiteError`` if it is bad.

    A suite may read files (``inputs_file``, ``sources``) only inside its own folder tree,
    symlinks resolved, or inside a folder of ``allow_paths``; and name in
    ``server.api_key_env`` only a variable that looks like a key (``…KEY``, ``…TOKEN``,
    ``…SECRET``, upper case) or is in ``allow_env``: a suite edited in a pull request must
    not be able to send ``/etc/passwd`` or ``$HOME`` to the server it chose
    (docs/security.md)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SuiteError(f"{path}: no such suite file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"{path}: cannot read suite: {exc}") from None
    data, marks = _parse_yaml(text, path)
    if not isinstance(data, dict):
        raise SuiteError(f"{path}:1:1: expected a mapping of suite fields (name, prompts, ...)")
    try:
        suite = Suite.model_validate(data)
    except ValidationError as exc:
        raise SuiteError(_format_validation(exc, path, marks)) from None
    suite.path = path
    _check_reach(suite, path, marks, allow_paths, allow_env)
    if suite.inputs_file:
        suite.inputs = suite.inputs + _load_inputs_file(suite, path, suite.inputs_file, marks)
    if not suite.inputs:
        raise SuiteError(f"{path}: no inputs; add `inputs:` or `inputs_file:`")
    _check_plan_size(suite)
    if suite.adaptive is not None:
        check_adaptive(suite, path, marks)
    references = _check_references(suite, path, marks)
    # a prompt whose few-shot references are broken cannot render: its template is not
    # checked (the error would only echo the reference problem)
    broken = {i for i, _ in references if i is not None}
    templates = template_problems(suite, broken) + judge_template_problems(suite)
    problems = [m for _, m in references] + [f"{_where(path, marks, loc)}: {m}"
                                             for loc, m in templates]
    if problems:  # every one at once, not only the first
        raise SuiteError("\n".join(problems))
    suite.hash = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return suite


def _check_reach(suite: Suite, path: Path, marks: dict, allow_paths: Sequence[str | Path],
                 allow_env: Sequence[str]) -> None:
    roots = [suite.base_dir.resolve(), *(Path(p).resolve() for p in allow_paths)]
    files = ([(("inputs_file",), suite.inputs_file)] if suite.inputs_file else []) + [
        (("sources", j), src) for j, src in enumerate(suite.sources)]
    for loc, name in files:
        real = (suite.base_dir / name).resolve()
        if not any(real == r or r in real.parents for r in roots):
            raise SuiteError(f"{_where(path, marks, loc)}: {_dotted(loc)}: {name!r} is "
                             f"outside the suite's folder ({real}); allow it on purpose with "
                             "--allow-path DIR")
    servers: list[tuple[tuple[str | int, ...], Server]] = [(("server",), suite.server)] + [
        (("judges", j, "server"), judge.server) for j, judge in enumerate(suite.judges)
        if judge.server is not None]
    for at, server in servers:
        env = server.api_key_env
        if env is not None and not KEY_NAME.match(env) and env not in allow_env:
            where = _dotted((*at, "api_key_env"))
            raise SuiteError(f"{_where(path, marks, (*at, 'api_key_env'))}: "
                             f"{where}: {env!r} does not look like an API-key variable "
                             "(upper case, ending in KEY, TOKEN or SECRET); its value would be "
                             "sent to the suite's server. Allow it on purpose with "
                             f"--allow-env {env}")


def max_requests() -> int:
    """The largest plan a suite may have (``$HARNESS_MAX_REQUESTS``, default 1,000,000)."""
    try:
        return int(os.environ.get("HARNESS_MAX_REQUESTS", "1000000"))
    except ValueError:
        return 1_000_000


def plan_size(suite: Suite) -> tuple[int, int]:
    """(requests, judge calls) the suite plans: prompts × inputs × grid points × samples
    generations, and every judge's calls on them (``harness.judges.calls.planned_calls``,
    an upper bound), both counted before anything is expanded."""
    from harness.judges.calls import planned_calls

    per_prompt = len(suite.inputs) * suite.samples
    for values in suite.sampling.values():
        per_prompt *= len(values)
    judged = sum(planned_calls(j, len(suite.prompts), per_prompt) for j in suite.judges)
    return len(suite.prompts) * per_prompt, judged


def _check_plan_size(suite: Suite) -> None:
    n, judged = plan_size(suite)
    limit = max_requests()
    if n + judged > limit:
        calls = f" and {judged:,} judge calls" if judged else ""
        raise SuiteError(f"{suite.path}: the suite plans {n:,} requests (prompts × inputs × "
                         f"grid points × samples){calls}, more than the limit of {limit:,}"
                         f"{' for both together' if judged else ''}; shrink it, or raise the "
                         "limit on purpose with HARNESS_MAX_REQUESTS")


def check_adaptive(suite: Suite, path: Path | None = None, marks: dict | None = None) -> None:
    """Refuse a race that cannot run: one cell, fewer inputs than a round's ``batch``, an
    objective the suite does not compute (or one with no direction), or a budget below
    one round. Raises ``SuiteError`` with the line of ``adaptive:``."""
    from harness.metrics import DEFAULT_METRICS, METRICS

    race = suite.adaptive
    if race is None:
        return
    where = _where(path or Path(str(suite.path)), marks or {}, ("adaptive",))
    cells = len(suite.prompts) * math.prod(len(v) for v in suite.sampling.values())
    computed = suite.metrics or DEFAULT_METRICS
    problem = None
    if cells < 2:
        problem = "a race needs at least two cells (prompts × grid points); this suite has one"
    elif len(suite.inputs) < race.batch:
        problem = (f"batch: {race.batch} inputs a round, but the suite has "
                   f"{len(suite.inputs)}")
    elif race.budget is not None and race.budget < cells * race.batch * suite.samples:
        problem = (f"budget: {race.budget} generations is less than one round "
                   f"({cells} cells × {race.batch} inputs × {suite.samples} samples = "
                   f"{cells * race.batch * suite.samples})")
    else:
        for name in race.objectives:
            if name.startswith("judge."):
                problem = (f"objective: {name!r}: judges cannot drive a race yet; race on a "
                           "metric and add the judge to the suite's judges")
            elif name not in METRICS:
                problem = f"objective: unknown metric {name!r}"
            elif name not in computed:
                problem = (f"objective: {name!r} is not among the suite's metrics "
                           f"({', '.join(computed)})")
            elif METRICS[name].higher_is is None:
                problem = f"objective: {name!r} has no better direction to race on"
            if problem:
                break
    if problem:
        raise SuiteError(f"{where}: adaptive: {problem}")


def _parse_yaml(text: str, path: Path) -> tuple[Any, dict[tuple, tuple[int, int]]]:
    """Return the YAML data and a map from key path to (line, column), both 1-based."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        # the context mark (e.g. where an unclosed quote started) is where the fix goes
        mark = exc.context_mark or exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        what = f"{exc.context}: {exc.problem}" if exc.context else str(exc.problem)
        if exc.context_mark and exc.problem_mark:
            what += f" (line {exc.problem_mark.line + 1})"
        raise SuiteError(f"{where}: invalid YAML: {what}") from None
    except yaml.YAMLError as exc:
        raise SuiteError(f"{path}: invalid YAML: {exc}") from None
    except RecursionError:
        raise SuiteError(f"{path}: the YAML is nested too deeply to be a suite") from None
    if node is not None:
        size = _expanded_size(node)
        if size > MAX_YAML_NODES:
            raise SuiteError(f"{path}: the YAML expands to more than {MAX_YAML_NODES:,} nodes "
                             "through its aliases (`*name`); a suite that large is a mistake "
                             "or an attack (billion laughs)")
    marks: dict[tuple, tuple[int, int]] = {}

    def walk(n: yaml.Node, at: tuple) -> None:
        if len(at) > MAX_YAML_DEPTH:
            raise SuiteError(f"{path}:{n.start_mark.line + 1}: the YAML is nested deeper than "
                             f"{MAX_YAML_DEPTH} levels; a suite is never that deep")
        marks.setdefault(at, (n.start_mark.line + 1, n.start_mark.column + 1))
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:  # a key's own line is the best place to point at
                marks[at + (k.value,)] = (k.start_mark.line + 1, k.start_mark.column + 1)
                walk(v, at + (k.value,))
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                walk(v, at + (i,))

    if node is not None:
        walk(node, ())
    return data, marks


MAX_YAML_NODES = 200_000
MAX_YAML_DEPTH = 64


def _expanded_size(root: yaml.Node) -> int:
    """Return how many nodes ``root`` has once every alias is expanded, computed once per
    distinct node (aliases share node objects), capped just past ``MAX_YAML_NODES``."""
    memo: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        n, done = stack.pop()
        if id(n) in memo:
            continue
        if isinstance(n, yaml.MappingNode):
            children = [c for kv in n.value for c in kv]
        elif isinstance(n, yaml.SequenceNode):
            children = list(n.value)
        else:
            memo[id(n)] = 1
            continue
        if not done:
            stack.append((n, True))
            stack.extend((c, False) for c in children if id(c) not in memo)
            continue
        memo[id(n)] = min(MAX_YAML_NODES + 1,
                          1 + sum(memo.get(id(c), 1) for c in children))
    return memo[id(root)]


def _where(path: Path, marks: dict, loc: tuple) -> str:
    loc = tuple(loc)
    while loc and loc not in marks:
        loc = loc[:-1]
    line, col = marks.get(loc, (1, 1))
    return f"{path}:{line}:{col}"


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "suite"


def _format_validation(exc: ValidationError, path: Path, marks: dict) -> str:
    lines = []
    for err in exc.errors():
        # pydantic adds the validator's class name for tagged unions etc.; drop non-keys
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r} (check spelling; see docs/suites.md)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        else:
            msg = msg.removeprefix("Value error, ")
            if "input" in err and err["type"] not in ("value_error",):
                msg += f" (got {err['input']!r})"
        lines.append(f"{_where(path, marks, loc)}: {_dotted(loc)}: {msg}")
    return "\n".join(lines)


def _load_inputs_file(suite: Suite, path: Path, name: str, marks: dict) -> list[InputSpec]:
    file = suite.base_dir / name
    where = _where(path, marks, ("inputs_file",))
    if not file.exists():
        raise SuiteError(f"{where}: inputs_file {name!r} not found (looked at {file})")
    rows: list[dict] = []
    try:
        if file.suffix == ".jsonl":
            for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise SuiteError(f"{file}:{n}: invalid JSON line: {exc.msg}") from None
        elif file.suffix == ".csv":
            with open(file, newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
        else:
            raise SuiteError(f"{where}: inputs_file must end in .jsonl or .csv, got {file.name!r}")
    except UnicodeDecodeError:
        raise SuiteError(f"{file}: not UTF-8 text") from None
    inputs = []
    known = {i.id for i in suite.inputs}
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise SuiteError(f"{file}:{n}: expected an object of template variables")
        row = dict(row)
        row.setdefault("id", f"{file.stem}-{n}")
        try:
            spec = InputSpec.model_validate(row)
        except ValidationError as exc:
            raise SuiteError(f"{file}:{n}: {exc.errors()[0]['msg']}") from None
        if spec.id in known:
            raise SuiteError(f"{file}:{n}: duplicate input id {spec.id!r}")
        known.add(spec.id)
        inputs.append(spec)
    return inputs


def _check_references(suite: Suite, path: Path, marks: dict) -> list[tuple[int | None, str]]:
    """Every problem with the few-shot references and source files, one line each, with
    the index of the prompt it is in (None for a source file)."""
    problems: list[tuple[int | None, str]] = []
    ids = {e.id for e in suite.examples}
    for i, p in enumerate(suite.prompts):
        if p.fewshot is None:
            continue
        where = _where(path, marks, ("prompts", i, "fewshot"))
        if not suite.examples:
            problems.append((i, f"{where}: prompts[{i}].fewshot: the suite has no `examples:`"
                                " pool"))
            continue
        problems += [(i, f"{where}: prompts[{i}].fewshot.ids: unknown example {ex!r}; "
                      f"expected one of {sorted(ids)}") for ex in p.fewshot.ids if ex not in ids]
        if p.fewshot.strategy == "fixed" and not p.fewshot.ids:
            problems.append((i, f"{where}: prompts[{i}].fewshot: strategy fixed needs `ids:`"))
    for j, src in enumerate(suite.sources):
        problem = _source_problem(suite.base_dir / src, src)
        if problem:
            problems.append((None, f"{_where(path, marks, ('sources', j))}: sources[{j}]: "
                                   f"{problem}"))
    return problems


def _source_problem(file: Path, src: str) -> str | None:
    """Why the source corpus file ``file`` cannot be used, or None."""
    if not file.exists():
        return f"file {src!r} not found (looked at {file})"
    if not file.is_file():
        return f"{src!r} is not a file (a directory?)"
    try:
        with open(file, encoding="utf-8") as fh:
            head = fh.read(1 << 16)
    except UnicodeDecodeError:
        return f"{src!r} is not UTF-8 text"
    except OSError as exc:
        return f"cannot read {src!r}: {exc.strerror}"
    if "\x00" in head:
        return f"{src!r} looks binary (it holds NUL bytes)"
    return None
