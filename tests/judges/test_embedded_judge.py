"""One real run with the embedded model (SmolLM2-135M-Instruct) as its own judge: the whole
path on a real model, and what a far-too-small judge looks like in the reliability table.
docs/judges.md quotes what this test prints."""

from __future__ import annotations

import pytest

from harness.generate.runner import run_suite
from harness.store.tables import Store
from harness.suite.load import load_suite
from tests.conftest import write_tiny_suite

pytestmark = pytest.mark.model

JUDGES = """
judges:
  - {name: coherence, criterion: coherence, scale: [1, 10], max_tokens: 24}
  - {name: pref, kind: pairwise, max_tokens: 16}
"""


def test_embedded_model_judges_a_real_run(tmp_path, capsys):
    path = write_tiny_suite(tmp_path / "tiny.yaml", samples=2, max_tokens=24)
    path.write_text(path.read_text() + JUDGES, encoding="utf-8")
    store = Store(tmp_path / "s.sqlite")
    result = run_suite(load_suite(path), store)
    judged = store.judgments(result.run.id)
    assert len(judged["coherence"]) == 16  # one call per item
    assert len(judged["pref"]) == 16  # 8 slots x 1 variant pair x 2 orders
    for row in judged["coherence"]:
        assert row["answer"] is not None and row["completion_tokens"] > 0
        assert row["value"] is None or 1 <= row["value"] <= 10
    for row in judged["pref"]:
        assert row["value"] in (None, 0.0, 0.5, 1.0)
    section = result.summary["judges"]
    assert section["coherence"]["calls"] == 16 and section["pref"]["calls"] == 16
    for name in ("coherence", "pref"):
        assert section[name]["unreadable"]["n"] == 16
    usage = result.summary["usage"]["rows"]
    assert usage["judge coherence"]["calls"] == 16
    assert usage["judge coherence"]["prompt_tokens"] > 16 * 50  # the judge prompt is long
    with capsys.disabled():
        print("\nembedded judge:",
              {n: {"unreadable": s["unreadable"]["value"],
                   "first_chosen": (s.get("position") or {}).get("first_chosen", {}).get("value")}
               for n, s in section.items()},
              [row["answer"][:40] for row in judged["coherence"][:3]])
    # a re-run asks the judge nothing again
    again = run_suite(load_suite(path), store)
    assert again.generated == 0 and again.summary["judges"] == section
