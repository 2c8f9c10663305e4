import math

import pytest

from harness.metrics import (
    DEFAULT_METRICS,
    METRICS,
    Resources,
    SampleContext,
    metric,
    score_samples,
    score_set,
)
from harness.metrics.registry import get_specs

from .corpora import EDGE


def test_every_metric_is_documented():
    for name, spec in METRICS.items():
        assert spec.name == name
        assert spec.kind in ("sample", "set", "cell")
        assert spec.description and "\n" not in spec.description
        assert spec.source
        doc = spec.fn.__doc__ or ""
        assert len(doc) > 60, f"{name}: docstring must give the formula and source"
    assert set(DEFAULT_METRICS) <= set(METRICS)


def test_unknown_metric_lists_valid_names():
    with pytest.raises(KeyError, match="self_bleu"):
        score_set(["self_blue"], ["a"])
    with pytest.raises(ValueError, match="sample-level"):
        score_set(["length_words"], ["a"])
    with pytest.raises(ValueError, match="set-level"):
        get_specs(["self_bleu"], "sample")


def test_duplicate_registration_rejected():
    with pytest.raises(ValueError, match="registered twice"):
        metric("self_bleu", kind="set", description="x", source="x", higher_is=None)(len)


def test_no_nan_on_edge_cases():
    """Every model-free metric gives finite values on empty/one-token/single-sample sets."""
    model_free = [n for n, s in METRICS.items() if not {"scorer", "embedder"} & set(s.needs)]
    sets = [[], [""], ["word"], EDGE, ["", ""]]
    for texts in sets:
        ctx = [SampleContext(messages=[], prompt_text="", reference="ref") for _ in texts]
        sample = [n for n in model_free if METRICS[n].kind == "sample"]
        for values in score_samples(sample, texts, ctx, Resources()).values():
            assert len(values) == len(texts) and all(math.isfinite(v) for v in values)
        set_names = [n for n in model_free if METRICS[n].kind == "set"]
        assert all(math.isfinite(v) for v in score_set(set_names, texts).values())
