"""An adaptive run end to end on a fake backend whose variants differ by design: the race
drops the beaten cells, uses fewer generations than the fixed design, resumes after a kill
with the same decisions and no repeated request, and a stored run re-renders the same race."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from harness.generate.runner import run_suite
from harness.records import Generation, Request
from harness.store.tables import Store
from harness.suite.load import SuiteError, load_suite
from harness.summarize.build import build_summary

WORDS = [f"w{i}" for i in range(400)]

SUITE = """\
name: race
model: fake
backend: hf
seed: 3
samples: 3
prompts:
  - {{id: varied, template: "A {{{{ topic }}}}."}}
  - {{id: repetitive, template: "B {{{{ topic }}}}."}}
  - {{id: middling, template: "C {{{{ topic }}}}."}}
inputs:
{inputs}
metrics: [distinct_2, length_words]
adaptive: {adaptive}
"""


def _suite(tmp_path: Path, n_inputs: int = 40,
           adaptive: str = "{objective: distinct_2, batch: 4}") -> Path:
    inputs = "\n".join(f"  - {{id: t{i}, topic: thing {i}}}" for i in range(n_inputs))
    path = tmp_path / "race.yaml"
    path.write_text(SUITE.format(inputs=inputs, adaptive=adaptive), encoding="utf-8")
    return path


class VariantBackend:
    """Texts whose distinct-2 is set by the variant: 'varied' draws fresh words, 'repetitive'
    repeats two, 'middling' mixes them; the seed decides the words."""

    name = "hf"

    def __init__(self, fail_after: int | None = None):
        self.generated: list[str] = []
        self.fail_after = fail_after

    def generate(self, requests: Sequence[Request]) -> Iterator[Generation]:
        from harness.backends.base import BackendError

        for r in requests:
            if self.fail_after is not None and len(self.generated) >= self.fail_after:
                raise BackendError("fake backend died")
            rng = random.Random(r.seed)
            if r.variant == "varied":
                words = rng.sample(WORDS, 20)
            elif r.variant == "repetitive":
                words = [rng.choice(WORDS[:3]) for _ in range(20)]
            else:
                words = [rng.choice(WORDS[:5]) for _ in range(20)]
            self.generated.append(r.key)
            yield Generation(key=r.key, text=" ".join(words), completion_tokens=20,
                             backend=self.name)

    def score(self, prompts, texts):  # noqa: ANN001, ANN201
        return [[-1.0] for _ in texts]

    def close(self) -> None:
        pass


@pytest.fixture
def backends(monkeypatch):
    import harness.generate.runner

    made: list[VariantBackend] = []
    plan: list[int | None] = []

    def make(name, model, **kwargs):  # noqa: ANN001, ANN003, ANN202
        made.append(VariantBackend(plan.pop(0) if plan else None))
        return made[-1]

    monkeypatch.setattr(harness.generate.runner, "make_backend", make)
    return made, plan


def test_the_race_drops_the_beaten_and_saves_generations(tmp_path, backends):
    made, _ = backends
    store = Store(tmp_path / "s.sqlite")
    result = run_suite(load_suite(_suite(tmp_path)), store)
    race = result.summary["race"]
    status = {c["cell"]: c["status"] for c in race["cells"]}
    assert status == {"varied": "left", "repetitive": "dropped", "middling": "dropped"}, race
    assert race["stopped"] == "decided: varied is the best"
    fixed = 3 * 40 * 3
    assert race["fixed_design"] == fixed
    assert race["generations"] == len(made[0].generated) == result.generated
    assert fixed / race["generations"] >= 3, race["generations"]
    # the run's plan is what the race used: its cells hold only the inputs they ran on
    by_cell = {c["cell"]: c for c in result.summary["cells"]}
    assert by_cell["varied"]["n_inputs"] == len(race["rounds"]) * 4
    assert by_cell["repetitive"]["n_inputs"] < by_cell["varied"]["n_inputs"]
    # the stored run replays the same race
    again = build_summary(store, result.run.id, samples=False)["race"]
    assert again == race


def test_a_killed_race_resumes_with_the_same_decisions(tmp_path, backends):
    made, plan = backends
    suite = load_suite(_suite(tmp_path))
    whole = run_suite(suite, Store(tmp_path / "whole.sqlite")).summary["race"]
    made.clear()
    plan.append(30)  # dies in the middle of the third round
    store = Store(tmp_path / "killed.sqlite")
    from harness.backends import BackendError

    with pytest.raises(BackendError):
        run_suite(suite, store)
    first = list(made[-1].generated)
    resumed = run_suite(suite, store)
    second = made[-1].generated
    assert not set(first) & set(second), "a request was generated twice"
    assert resumed.summary["race"] == whole
    assert len(first) + len(second) == whole["generations"]


def test_adaptive_flag_races_a_suite_without_the_block(tmp_path, backends):
    path = _suite(tmp_path)
    path.write_text(path.read_text().replace("adaptive: {objective: distinct_2, batch: 4}\n",
                                             ""), encoding="utf-8")
    result = run_suite(load_suite(path), Store(tmp_path / "s.sqlite"), adaptive=True)
    assert result.summary["race"]["objectives"][0]["metric"] == "distinct_2"


@pytest.mark.parametrize("adaptive, says", [
    ("{objective: self_bleu}", "'self_bleu' is not among the suite's metrics"),
    ("{objective: nosuch}", "unknown metric 'nosuch'"),
    ("{objective: length_words}", "no better direction"),
    ("{batch: 50}", "batch: 50 inputs a round, but the suite has 40"),
    ("{budget: 10}", "less than one round"),
    ("{objective: judge.x}", "judges cannot drive a race yet"),
    ("{margin: -1}", "margin"),
    ("{alpha: 0.9}", "alpha"),
    ("{objective: [distinct_2], margin: [0.1, 0.2]}", "one per objective"),
])
def test_a_race_that_cannot_run_is_refused_at_load(tmp_path, adaptive, says):
    with pytest.raises(SuiteError) as err:
        load_suite(_suite(tmp_path, adaptive=adaptive))
    assert says in str(err.value)
    assert "race.yaml:" in str(err.value)


def test_one_cell_cannot_race(tmp_path):
    path = _suite(tmp_path)
    text = path.read_text()
    text = text.replace('  - {id: repetitive, template: "B {{ topic }}."}\n', "")
    text = text.replace('  - {id: middling, template: "C {{ topic }}."}\n', "")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SuiteError, match="at least two cells"):
        load_suite(path)


def test_a_race_on_an_openai_compatible_server(tmp_path, serve):
    """Controlled variants behind a local server: 'varied' answers with fresh words,
    'repetitive' with two; the race drops 'repetitive' and the server sees only the
    requests the race used (every one once)."""
    from tests.backends.fake_server import completion, prompt_id

    def script(body, attempt):  # noqa: ANN001, ANN202
        prompt = prompt_id(body)
        rng = random.Random(f"{prompt}|{body.get('seed')}")
        words = (rng.sample(WORDS, 20) if prompt.startswith("A ")
                 else [rng.choice(WORDS[:2]) for _ in range(20)])
        return ("json", completion(body, " ".join(words)))

    server = serve(script)
    path = _suite(tmp_path, adaptive="{objective: distinct_2, batch: 4}")
    text = path.read_text().replace("backend: hf", "backend: openai\nserver: {base_url: \""
                                    + server.url + "\", max_retries: 1, timeout: 10}")
    text = text.replace('  - {id: middling, template: "C {{ topic }}."}\n', "")
    path.write_text(text, encoding="utf-8")
    result = run_suite(load_suite(path), Store(tmp_path / "s.sqlite"))
    race = result.summary["race"]
    assert {c["cell"]: c["status"] for c in race["cells"]} == {"varied": "left",
                                                               "repetitive": "dropped"}
    assert len(server.seen) == race["generations"] < 2 * 40 * 3
    keys = [(prompt_id(b), b.get("seed")) for _, _, b in server.seen]
    assert len(keys) == len(set(keys)), "a request was sent twice"
