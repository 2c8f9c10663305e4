"""Plugins through entry points: examples/plugin installed into a scratch directory adds
a metric and a backend that a suite uses; a plugin that fails to load is named, exit 2, in
every command; a plugin metric that raises or returns something other than one finite
number per text is named with its plugin, exit 2, and the run's generations stay stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

SUITE = """\
name: plug
backend: echo
samples: 2
prompts: [{id: p, template: "Say hi to {{ topic }}"}]
inputs: [{topic: rain}, {topic: the sea}, {topic: bread}]
metrics: [exclamation_rate, distinct_2, length_words]
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """examples/plugin installed with pip into a directory put on PYTHONPATH."""
    target = tmp_path_factory.mktemp("site")
    got = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                          "--no-build-isolation", "--target", str(target),
                          str(ROOT / "examples" / "plugin")],
                         capture_output=True, text=True, timeout=600)
    if got.returncode != 0 and "setuptools" in got.stderr:
        pytest.skip(f"no setuptools to build the example plugin offline: {got.stderr[-300:]}")
    assert got.returncode == 0, got.stderr[-2000:]
    return target


def harness(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def test_a_plugin_adds_a_metric_and_a_backend(site, tmp_path):
    (tmp_path / "plug.yaml").write_text(SUITE, encoding="utf-8")
    listed = harness(site, tmp_path, "metrics")
    assert listed.returncode == 0 and "exclamation_rate" in listed.stdout
    got = harness(site, tmp_path, "run", "plug.yaml", "--format", "json")
    assert got.returncode == 0, got.stderr
    assert "6 generated" in got.stdout and "on echo" in got.stderr
    report = json.loads((tmp_path / "reports" / "plug-latest.json").read_text("utf-8"))
    values = {c["cell"]: c["metrics"]["exclamation_rate"]["mean"] for c in report["cells"]}
    # "SAY HI TO RAIN! (sample 0)": 1 mark, 6 words; "... THE SEA! ...": 1 in 7; bread 1 in 6
    assert values == {"p": pytest.approx((1 / 6 + 1 / 7 + 1 / 6) / 3)}


def test_without_the_plugin_its_backend_is_an_unknown_name(tmp_path):
    (tmp_path / "plug.yaml").write_text(SUITE, encoding="utf-8")
    got = subprocess.run([sys.executable, "-m", "harness.cli", "validate", "plug.yaml"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert got.returncode == 2
    assert "unknown backend 'echo'" in got.stderr and "Traceback" not in got.stderr


def fake_site(tmp_path: Path, name: str, module: str, group: str = "harness.metrics") -> Path:
    """A directory with one plugin (entry point ``name`` in ``group``), the Python source
    ``module`` as its module ``<name>_mod``, as an installed distribution would leave it."""
    site = tmp_path / f"site-{name}"
    dist = site / f"{name}_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}-plugin\n"
                                   "Version: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(f"[{group}]\n{name} = {name}_mod\n",
                                           encoding="utf-8")
    (site / f"{name}_mod.py").write_text(module, encoding="utf-8")
    return site


# every command, with arguments it would accept: a plugin failing to load stops each the same
# way before the arguments are used
COMMANDS = [["metrics"], ["validate", "s.yaml"], ["runs"], ["export"], ["run", "s.yaml"],
            ["check", "s.yaml"], ["report"], ["compare", "latest"], ["baseline", "-o", "b.json"],
            ["score", "t.jsonl"], ["rate", "export"], ["rate", "import", "f.csv"]]


@pytest.mark.parametrize("cmd", COMMANDS, ids=" ".join)
def test_a_broken_plugin_is_named_with_exit_2_in_every_command(tmp_path, cmd):
    site = fake_site(tmp_path, "broken", "raise ImportError('needs numpy 9')\n")
    got = harness(site, tmp_path, *cmd)
    assert got.returncode == 2, got.stderr
    assert "plugin 'broken'" in got.stderr and "needs numpy 9" in got.stderr
    assert "Traceback" not in got.stderr
    assert [ln for ln in got.stderr.splitlines() if ln.startswith("error:")] == \
        [ln for ln in got.stderr.splitlines() if ln.strip()]  # one line, nothing else


def test_a_plugin_that_exits_on_import_is_named(tmp_path):
    site = fake_site(tmp_path, "quits", "import sys\nsys.exit('no GPU here')\n")
    got = harness(site, tmp_path, "metrics")
    assert got.returncode == 2 and "plugin 'quits'" in got.stderr
    assert "SystemExit: no GPU here" in got.stderr


# a plugin metric per way of returning something that is not a finite number (and one that
# raises); the env var picks which, so one plugin serves every case
BAD_VALUES = {
    "nan": "float('nan')", "inf": "float('inf')", "none": "None", "string": "'0.5'",
    "huge-int": "10 ** 400", "complex": "1j", "list": "[1.0]", "raises": "1 / 0",
}
BAD_MODULE = """\
from harness.metrics.registry import metric

BAD = {bad!r}


def _value(kind):
    return {{k: (lambda v=v: eval(v)) for k, v in BAD.items()}}[kind]()


@metric("bad_sample", kind="sample", description="bad", source="test", higher_is=None)
def bad_sample(texts, contexts, resources):
    import os
    return [1.0] + [_value(os.environ["BAD"]) for _ in texts[1:]]


@metric("bad_set", kind="set", description="bad", source="test", higher_is=None)
def bad_set(texts, resources):
    import os
    return _value(os.environ["BAD"])


@metric("bad_count", kind="sample", description="bad", source="test", higher_is=None)
def bad_count(texts, contexts, resources):
    return [0.5]


@metric("bad_shape", kind="sample", description="bad", source="test", higher_is=None)
def bad_shape(texts, contexts, resources):
    return 0.5
"""


def _bad_site(tmp_path: Path) -> Path:
    return fake_site(tmp_path, "badvals", BAD_MODULE.format(bad=BAD_VALUES))


@pytest.mark.parametrize("metric", ["bad_sample", "bad_set"])
@pytest.mark.parametrize("bad", sorted(BAD_VALUES))
def test_a_plugin_metric_returning_no_finite_number_is_named_with_exit_2(
        tmp_path, monkeypatch, bad, metric):
    (tmp_path / "t.jsonl").write_text('{"text": "a b"}\n{"text": "c d"}\n', encoding="utf-8")
    monkeypatch.setenv("BAD", bad)
    got = harness(_bad_site(tmp_path), tmp_path, "score", "t.jsonl", "--metrics", metric)
    assert got.returncode == 2, got.stderr
    assert "Traceback" not in got.stderr
    (line,) = [ln for ln in got.stderr.splitlines() if ln.startswith("error:")]
    assert f"metric {metric!r} (plugin 'badvals')" in line
    if bad == "raises":
        assert "failed at " in line and "ZeroDivisionError" in line
    else:
        assert "returned" in line and ("text 2 of 2" in line or metric == "bad_set")


@pytest.mark.parametrize("metric, says", [
    ("bad_count", "returned 1 values for 2 texts"),
    ("bad_shape", "returned 0.5, not a list of 2 numbers (one per text)"),
])
def test_a_plugin_metric_returning_the_wrong_shape_is_named_with_exit_2(tmp_path, metric,
                                                                        says):
    (tmp_path / "t.jsonl").write_text('{"text": "a b"}\n{"text": "c d"}\n', encoding="utf-8")
    got = harness(_bad_site(tmp_path), tmp_path, "score", "t.jsonl", "--metrics", metric)
    assert got.returncode == 2 and "Traceback" not in got.stderr, got.stderr
    assert f"metric {metric!r} (plugin 'badvals') {says}" in got.stderr


def test_a_bad_plugin_metric_in_a_run_loses_nothing_stored(site, tmp_path, monkeypatch):
    """The run stops with exit 2 naming the metric; its generations stay in the store and
    the next run (without the metric) reuses every one."""
    bad_site = _bad_site(tmp_path)
    both = Path(f"{bad_site}{os.pathsep}{site}")
    (tmp_path / "plug.yaml").write_text(SUITE.replace("metrics: [", "metrics: [bad_sample, "),
                                        encoding="utf-8")
    monkeypatch.setenv("BAD", "nan")
    got = harness(both, tmp_path, "run", "plug.yaml")
    assert got.returncode == 2, got.stderr
    assert "metric 'bad_sample' (plugin 'badvals') returned nan" in got.stderr
    assert "Traceback" not in got.stderr
    runs = harness(both, tmp_path, "runs")
    assert "failed" in runs.stdout and "6/6" in runs.stdout
    (tmp_path / "plug.yaml").write_text(SUITE, encoding="utf-8")
    again = harness(both, tmp_path, "run", "plug.yaml", "--format", "json")
    assert again.returncode == 0, again.stderr
    assert "0 generated, 6 from the store" in again.stdout


def test_a_built_in_metric_returning_nan_is_an_internal_error():
    """Not the user's fault: a bug in harness (the CLI's exit 4), named all the same."""
    from harness.metrics import METRICS, score_samples
    from harness.metrics.registry import MetricError, Resources, SampleContext

    spec = METRICS["length_words"]
    try:
        METRICS["length_words"] = type(spec)(**{**spec.__dict__,
                                                "fn": lambda t, c, r: [float("nan")] * len(t)})
        with pytest.raises(ArithmeticError, match="metric 'length_words' returned nan") as e:
            score_samples(["length_words"], ["a"], [SampleContext([], "")], Resources())
        assert not isinstance(e.value, MetricError)
    finally:
        METRICS["length_words"] = spec


def test_an_in_tree_backend_is_its_module_and_one_registry_line(tmp_path, monkeypatch):
    """docs/extending.md: a backend added to ``FACTORIES`` (the one line besides its own
    module) is accepted by suites, the CLI and the runner with no other change."""
    from harness.backends import FACTORIES
    from harness.generate.runner import run_suite
    from harness.store.tables import Store
    from harness.suite.load import load_suite
    from tests.conftest import FakeBackend

    made = []

    def mine(model, **options):
        made.append(model)
        return FakeBackend()

    monkeypatch.setitem(FACTORIES, "mine", mine)
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nbackend: mine\nmodel: m1\nsamples: 2\nmetrics: [distinct_1]\n"
                    "prompts: [{id: p, template: 'About {{ topic }}'}]\n"
                    "inputs: [{topic: rain}, {topic: snow}]\n", encoding="utf-8")
    result = run_suite(load_suite(path), Store(tmp_path / "s.sqlite"))
    assert made == ["m1"] and result.generated == 4 and result.run.backend == "mine"


JUDGE_MODULE = """\
from harness.judges.registry import JudgeKind, register_judge_kind


@register_judge_kind
class Vote(JudgeKind):
    name = "vote"
    summary = "share of texts voted for"
    templates = {"en": "<<<\\n{{ text }}\\n>>>\\nVote: yes or no?"}

    def verdict(self, judge, answer, swapped):
        return {"yes": 1.0, "no": 0.0}.get(answer.strip().lower())
"""
JUDGED = """\
name: voted
prompts: [{id: p, template: "Say hi to {{ topic }}"}]
inputs: [{topic: rain}]
judges: [{name: v, kind: vote}]
"""


def test_a_plugin_adds_a_judge_kind(tmp_path):
    (tmp_path / "s.yaml").write_text(JUDGED, encoding="utf-8")
    site = fake_site(tmp_path, "votes", JUDGE_MODULE, group="harness.judges")
    got = harness(site, tmp_path, "validate", "s.yaml")
    assert got.returncode == 0, got.stderr
    without = harness(tmp_path / "nowhere", tmp_path, "validate", "s.yaml")
    assert without.returncode == 2 and "unknown judge kind 'vote'" in without.stderr
