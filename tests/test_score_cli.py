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


def test_a_metric_that_does_not_apply_is_absent_not_zero(tmp_path):
    rows = [{"text": "the cat sat on the mat", "group": "ref", "reference": "the cat sat"},
            {"text": "a dog ran", "group": "ref"},
            {"text": "no reference here at all", "group": "none"}]
    path = tmp_path / "texts.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = run_cli("score", str(path), "--metrics", "bleu,length_words", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert "bleu" not in out["none"] and out["none"]["length_words"] == 5
    # the group's BLEU is over the text that has a reference only, not averaged with a 0
    import sacrebleu

    one = sacrebleu.sentence_bleu("the cat sat on the mat", ["the cat sat"]).score
    assert one > 0 and out["ref"]["bleu"] == one
    table = run_cli("score", str(path), "--metrics", "bleu")
    assert table.returncode == 0 and "–" in table.stdout


def test_perplexity_without_a_scorer_names_the_option(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "a line of verse"}\n', encoding="utf-8")
    result = run_cli("score", str(path), "--metrics", "perplexity")
    assert result.returncode == 2
    assert "--scorer smollm2-135m" in result.stderr
