"""A sampling axis is one field of ``SamplingParams``: the suite schema, the plan and the
backends read it from there, the defaults are one set, and request keys stay put."""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.backends.base import BackendConfigError, refuse_unhonoured
from harness.backends.openai import OpenAIBackend
from harness.records import Request, SamplingParams
from harness.suite.load import SuiteError, load_suite
from harness.suite.plan import plan
from harness.suite.schema import GRID_KEYS

ROOT = Path(__file__).resolve().parents[1]

# Computed with the code before SamplingParams became the one list of axes (issue 23): the
# keys of existing suites must not change, or every cached generation is made again.
POETRY_FIRST_KEY = "b4c45aef117d65c95b669195ce9f292d8a552de9e314c5d5fdd2910531d75920"
POETRY_ALL_KEYS = "0520bf6813801f1581f1dbd9bca7ae63cd049223e5e79748475fa65195ed4824"
EVERY_AXIS_KEYS = "bbf0f33a69ad6c1f3adcee5bc9da45238cb53d5a110920b3851bba13dc220b28"

EVERY_AXIS_SUITE = """\
name: axes
prompts:
  - id: p
    template: "Write about {{ topic }}."
inputs:
  - {id: sea, topic: the sea}
samples: 1
defaults: {temperature: 1, top_p: 0.9}
sampling:
  top_k: [0, 40]
  min_p: [0, 0.05]
  repetition_penalty: [1, 1.2]
  max_tokens: [16]
  fewshot_k: [0]
"""


PLAIN = "name: plain\nprompts: [{id: p, template: hi}]\ninputs: [{id: a, topic: sea}]\n"


def digest(requests: list[Request]) -> str:
    return hashlib.sha256("".join(r.key for r in requests).encode()).hexdigest()


def test_request_keys_of_existing_suites_are_unchanged(tmp_path):
    requests = plan(load_suite(ROOT / "suites" / "poetry.yaml"))
    assert requests[0].key == POETRY_FIRST_KEY
    assert digest(requests) == POETRY_ALL_KEYS
    # every axis on a grid: whole-number axes enter the key as ints, the rest as floats
    path = tmp_path / "axes.yaml"
    path.write_text(EVERY_AXIS_SUITE, encoding="utf-8")
    requests = plan(load_suite(path))
    assert len(requests) == 8 and digest(requests) == EVERY_AXIS_KEYS
    assert requests[-1].params.as_dict() == {
        "temperature": 1.0, "top_p": 0.9, "top_k": 40, "min_p": 0.05,
        "repetition_penalty": 1.2, "max_tokens": 16}


def test_the_suite_reads_its_axes_and_defaults_from_sampling_params(tmp_path):
    assert GRID_KEYS == (*SamplingParams.axes(), "fewshot_k")
    path = tmp_path / "plain.yaml"
    path.write_text(PLAIN + "samples: 1\n",
                    encoding="utf-8")
    suite = load_suite(path)
    # one set of defaults: a suite without `defaults:` gets SamplingParams()' values
    assert suite.defaults == SamplingParams()
    assert SamplingParams().temperature == 0.7 and SamplingParams().max_tokens == 96
    assert [r.params for r in plan(suite)] == [SamplingParams()]
    # a field's bounds are the grid's and the defaults' bounds
    for body, message in (("sampling: {top_p: [0]}", "sampling.top_p: 0"),
                          ("defaults: {top_p: 0}", "defaults.top_p"),
                          ("sampling: {top_k: [1.5]}", "not a whole number"),
                          ("defaults: {top_x: 1}", "top_x")):
        path.write_text(f"{PLAIN}{body}\n",
                        encoding="utf-8")
        with pytest.raises(SuiteError, match=message):
            load_suite(path)


def test_a_backend_refuses_an_axis_it_cannot_honour():
    class Extended(SamplingParams):
        presence_penalty: float | None = None

    def requests(params: SamplingParams) -> list[Request]:
        return [Request(key="k" * 64, model="m", messages=(("user", "hi"),), params=params,
                        sample_index=0, seed=1)]

    refuse_unhonoured("openai", OpenAIBackend.sampling_axes,  # left at its default: fine
                      requests(Extended(temperature=0.3)))
    with pytest.raises(BackendConfigError, match="cannot honour the sampling axis "
                                                 "'presence_penalty' \\(set to 0.5\\)"):
        refuse_unhonoured("openai", OpenAIBackend.sampling_axes,
                          requests(Extended(presence_penalty=0.5)))


NEW_FIELD = ('    presence_penalty: float | None = Field(None, ge=-2, le=2, description=(\n'
             '        "Penalise tokens already in the output; None: the backend\'s default."))\n')

CHECK = """\
import hashlib
import sys
from pathlib import Path

import harness
from harness.backends.base import BackendConfigError, refuse_unhonoured
from harness.backends.hf import HFBackend
from harness.backends.openai import OpenAIBackend
from harness.backends.server import Server
from harness.suite.load import SuiteError, load_suite
from harness.suite.plan import plan
from tests.backends.fake_server import FakeServer

assert Path(harness.__file__).parent == Path.cwd() / "harness", harness.__file__

# the suite accepts the new key in a sampling grid (with the field's bounds) ...
Path("s.yaml").write_text(
    "name: s\\nprompts: [{id: p, template: hi}]\\ninputs: [{id: a, t: x}]\\nsamples: 1\\n"
    "sampling: {presence_penalty: [0, 1.5], temperature: [0.5]}\\n")
requests = plan(load_suite("s.yaml"))
# ... and the plan expands it
assert [r.cell for r in requests] == ["p|presence_penalty=0,temperature=0.5",
                                      "p|presence_penalty=1.5,temperature=0.5"]
assert [r.params.presence_penalty for r in requests] == [0.0, 1.5]
assert requests[0].key != requests[1].key
Path("bad.yaml").write_text(
    "name: s\\nprompts: [{id: p, template: hi}]\\ninputs: [{id: a, t: x}]\\n"
    "sampling: {presence_penalty: [3]}\\n")
try:
    load_suite("bad.yaml")
    raise AssertionError("presence_penalty 3 was accepted")
except SuiteError as exc:
    assert "sampling.presence_penalty: 3" in str(exc), exc

# the backend that maps it receives it
bodies = []
server = FakeServer(lambda body, attempt: (bodies.append(body), ("ok", "x"))[1])
try:
    backend = OpenAIBackend(Server(base_url=server.url, max_retries=0), "m")
    assert len(list(backend.generate(requests))) == 2
finally:
    server.close()
assert sorted(b["presence_penalty"] for b in bodies) == [0.0, 1.5]

# a backend that does not map it says so
try:
    refuse_unhonoured("hf", HFBackend.sampling_axes, requests)
    raise AssertionError("hf took presence_penalty")
except BackendConfigError as exc:
    assert "cannot honour the sampling axis 'presence_penalty'" in str(exc), exc

# and the keys of a suite that does not use it are those of before
keys = [r.key for r in plan(load_suite(sys.argv[1]))]
assert hashlib.sha256("".join(keys).encode()).hexdigest() == sys.argv[2]
print("ok")
"""


def test_a_new_axis_takes_one_field_and_one_backend_line(tmp_path):
    """Add ``presence_penalty`` to a copy of the package by editing only records.py (the
    field) and backends/openai.py (its mapping): the suite accepts it on a grid, the plan
    expands it, the openai backend sends it, hf refuses it, and old keys do not move."""
    shutil.copytree(ROOT / "harness", tmp_path / "harness",
                    ignore=shutil.ignore_patterns("__pycache__"))
    records = tmp_path / "harness" / "records.py"
    text = records.read_text(encoding="utf-8")
    cls = next(node for node in ast.parse(text).body
               if isinstance(node, ast.ClassDef) and node.name == "SamplingParams")
    last = max(node.end_lineno or 0 for node in cls.body if isinstance(node, ast.AnnAssign))
    lines = text.splitlines(keepends=True)
    records.write_text("".join(lines[:last]) + NEW_FIELD + "".join(lines[last:]),
                       encoding="utf-8")
    openai = tmp_path / "harness" / "backends" / "openai.py"
    text = openai.read_text(encoding="utf-8")
    old = '"min_p", "repetition_penalty")'
    assert text.count(old) == 1
    openai.write_text(text.replace(old, '"min_p", "repetition_penalty", "presence_penalty")'),
                      encoding="utf-8")
    (tmp_path / "check.py").write_text(textwrap.dedent(CHECK), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = subprocess.run([sys.executable, "check.py", str(ROOT / "suites" / "poetry.yaml"),
                           POETRY_ALL_KEYS], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "ok"


def test_docs_list_every_axis_with_its_default():
    text = (ROOT / "docs" / "suites.md").read_text(encoding="utf-8")
    section = text.split("## Sampling: defaults and the grid", 1)[1].split("\n## ", 1)[0]
    for name, field in SamplingParams.model_fields.items():
        default = "the backend's" if field.default is None else f"{field.default:g}"
        assert f"`{name}` ({default}" in section, name
    for name in GRID_KEYS:
        assert f"`{name}`" in section.split("`sampling` maps", 1)[1].split(";", 1)[0], name
