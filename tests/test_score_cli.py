"""`harness score`: any texts, same metric code as `run`, JSON out."""

import json
import subprocess
import sys

from harness.metrics import score_set


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_score_groups_match_the_metric_functions(tmp_path):
    rows = [{"text": "the cat sat on the mat", "group": "a"},
            {"text": "the cat sat on the hat", "group": "a"},
            {"text": "a completely different line", "group": "a"},
            {"text": "春天来了，花开了。", "group": "b"},
            {"text": "春风吹过山岗。", "group": "b"}]
    path = tmp_path / "texts.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    result = run_cli("score", str(path), "--metrics", "distinct_2,self_bleu,length_words",
                     "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) == {"a", "b"}
    for group in ("a", "b"):
        texts = [r["text"] for r in rows if r["group"] == group]
        expected = score_set(["distinct_2", "self_bleu"], texts)
        assert out[group]["distinct_2"] == expected["distinct_2"]
        assert out[group]["self_bleu"] == expected["self_bleu"]
    assert out["a"]["length_words"] == (6 + 6 + 4) / 3  # per-sample metric: group mean
    assert out["b"]["length_words"] > 5  # Chinese counted by character, not one word


def test_score_bad_input(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"txt": "x"}\n')
    result = run_cli("score", str(path), "--json")
    assert result.returncode == 2 and 'expected a JSON object with a "text" field' in result.stderr
    path.write_text('{"text": "x"}\n')
    result = run_cli("score", str(path), "--metrics", "distinct_9")
    assert result.returncode == 2 and "unknown metric 'distinct_9'" in result.stderr
    result = run_cli("score", str(tmp_path / "missing.jsonl"))
    assert result.returncode == 2 and "no such file" in result.stderr
