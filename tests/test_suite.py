"""The suite loader: good suites load, every malformed suite gets one precise message."""

from pathlib import Path

import pytest

from harness.suite.load import SuiteError, load_suite

BAD = Path(__file__).parent / "data" / "bad_suites"
ROOT = Path(__file__).parent.parent

# file -> (line, fragments the message must contain)
EXPECTED = {
    "yaml_syntax.yaml": (4, ["invalid YAML", "quoted scalar"]),
    "unknown_top_key.yaml": (2, ["unknown key 'promts'"]),
    "unknown_prompt_key.yaml": (5, ["prompts[0].temprature", "unknown key"]),
    "wrong_type_samples.yaml": (2, ["samples", "valid integer", "'many'"]),
    "missing_prompts.yaml": (1, ["prompts", "required field is missing"]),
    "empty_prompts.yaml": (2, ["prompts", "at least 1 item"]),
    "prompt_without_text.yaml": (3, ["prompts[0]", "needs `template` or `messages`"]),
    "undefined_variable.yaml": (4, ["'topik' is undefined", "topic"]),
    "empty_grid.yaml": (6, ["sampling axis 'temperature' is empty"]),
    "unknown_grid_axis.yaml": (6, ["unknown sampling axis 'temprature'"]),
    "missing_inputs_file.yaml": (5, ["inputs_file", "not found"]),
    "no_inputs.yaml": (None, ["no inputs"]),
    "duplicate_prompt_id.yaml": (None, ["duplicate prompt id 'a'"]),
    "fewshot_without_pool.yaml": (5, ["fewshot", "no `examples:` pool"]),
    "bad_check.yaml": (7, ["checks[0]", "metric <= number"]),
    "negative_temperature.yaml": (3, ["defaults.temperature", "greater than or equal to 0"]),
    "bad_role.yaml": (5, ["messages[0].role", "'system', 'user' or 'assistant'"]),
    "not_a_mapping.yaml": (1, ["expected a mapping"]),
    "missing_source.yaml": (7, ["sources[0]", "not found"]),
    "template_syntax.yaml": (4, ["template error"]),
    "unknown_backend.yaml": (2, ["backend", "'tpu'"]),
    "unknown_fewshot_id.yaml": (7, ["unknown example 'e9'"]),
    "bad_inputs_jsonl.yaml": (None, ["bad_inputs.jsonl:2", "invalid JSON"]),
    "bad_name.yaml": (1, ["name", "pattern"]),
    # grid values pass the same checks as `defaults`
    "grid_negative_temperature.yaml": (6, ["sampling.temperature: -1", "greater than or equal"]),
    "grid_nan.yaml": (6, ["sampling.temperature: nan", "not a finite number"]),
    "grid_top_p.yaml": (6, ["sampling.top_p: 5", "less than or equal to 1"]),
    "grid_fractional_max_tokens.yaml": (6, ["sampling.max_tokens: 7.9", "not a whole number"]),
    "grid_negative_fewshot_k.yaml": (6, ["sampling.fewshot_k: -2", "negative"]),
    # bounded work: refused before anything is expanded or rendered
    "huge_samples.yaml": (2, ["samples", "less than or equal to 10000"]),
    "huge_plan.yaml": (None, ["plans 10,000,000 requests", "HARNESS_MAX_REQUESTS"]),
    "huge_template.yaml": (4, ["template builds a value of 1,000,000,000", "limit"]),
    "range_overflow.yaml": (4, ["Range too big"]),
    "alias_bomb.yaml": (None, ["expands to more than 200,000 nodes", "aliases"]),
    "deep_nesting.yaml": (6, ["nested deeper than 64 levels"]),
    # a suite reaches only its own folder and key-like variables
    "source_outside.yaml": (7, ["sources[0]", "outside the suite's folder", "--allow-path"]),
    "key_env_home.yaml": (5, ["api_key_env", "'HOME'", "--allow-env HOME"]),
    # configuration that can only fail later is refused now
    "empty_base_url.yaml": (3, ["server.base_url", "at least one URL"]),
    "ftp_base_url.yaml": (3, ["server.base_url", "'ftp://x' is not an http(s) URL"]),
    "binary_source.yaml": (4, ["sources[0]", "looks binary"]),
    # a judge kind no one registered (never parsed as some other kind)
    "unknown_judge_kind.yaml": (6, ["judges[0].kind", "unknown judge kind 'vote'",
                                    "expected one of checklist, pairwise, panel, rubric"]),
}


def test_every_bad_suite_has_an_expectation():
    assert sorted(p.name for p in BAD.glob("*.yaml")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 15


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_suite_message(name):
    line, fragments = EXPECTED[name]
    with pytest.raises(SuiteError) as info:
        load_suite(BAD / name)
    message = str(info.value)
    assert str(BAD / name) in message or "bad_inputs.jsonl" in message
    if line is not None:
        assert f"{name}:{line}:" in message, message
    for fragment in fragments:
        assert fragment in message, message


def test_missing_file():
    with pytest.raises(SuiteError, match="no such suite file"):
        load_suite(BAD / "nope.yaml")


@pytest.mark.parametrize("path", sorted((ROOT / "suites").glob("*.yaml")))
def test_shipped_suites_validate(path):
    suite = load_suite(path)
    assert suite.prompts and suite.inputs


def test_poetry_suite_meets_the_brief():
    suite = load_suite(ROOT / "suites" / "poetry.yaml")
    assert len(suite.prompts) >= 3
    assert any(p.system for p in suite.prompts)
    assert any(p.fewshot and p.fewshot.k >= 1 for p in suite.prompts)
    assert {"spring", "春天"} <= {i.vars.get("topic") for i in suite.inputs}
    assert set(suite.sampling["temperature"]) >= {0.3, 0.7, 1.0, 1.3}


def test_inputs_file_jsonl_and_csv(tmp_path):
    (tmp_path / "in.jsonl").write_text('{"id": "a", "topic": "sea"}\n{"topic": "雪"}\n',
                                       encoding="utf-8")
    (tmp_path / "in.csv").write_text("id,topic\nc,moon\n", encoding="utf-8")
    for name, ids in (("in.jsonl", ["a", "in-2"]), ("in.csv", ["c"])):
        (tmp_path / "s.yaml").write_text(
            f"name: s\nprompts: [{{id: p, template: 'about {{{{ topic }}}}'}}]\n"
            f"inputs_file: {name}\n", encoding="utf-8")
        suite = load_suite(tmp_path / "s.yaml")
        assert [i.id for i in suite.inputs] == ids


def test_check_shorthand_parses(tmp_path):
    (tmp_path / "s.yaml").write_text(
        "name: s\nprompts: [{id: p, template: hi}]\ninputs: [{id: x}]\n"
        "checks: ['distinct_2 >= 0.4', {metric: self_bleu, max_increase: 0.05}]\n")
    checks = load_suite(tmp_path / "s.yaml").checks
    assert (checks[0].metric, checks[0].op, checks[0].value) == ("distinct_2", ">=", 0.4)
    assert checks[1].max_increase == 0.05


@pytest.mark.parametrize("name", ["alias_bomb.yaml", "huge_plan.yaml", "huge_template.yaml"])
def test_hostile_suites_are_refused_with_bounded_memory(name):
    """`harness validate` refuses them with exit 2 inside a 500 MB address-space cap (the
    alias bomb took 11.7 GB before; the template 4 GB), no traceback."""
    import resource
    import subprocess
    import sys

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (500_000_000, 500_000_000))

    proc = subprocess.run([sys.executable, "-m", "harness.cli", "validate", str(BAD / name)],
                          capture_output=True, text=True, timeout=120, preexec_fn=cap)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "error:" in proc.stderr


def test_plan_limit_can_be_raised_on_purpose(monkeypatch):
    monkeypatch.setenv("HARNESS_MAX_REQUESTS", "20000000")
    assert load_suite(BAD / "huge_plan.yaml").samples == 100


def test_symlinked_inputs_file_cannot_leave_the_folder_unless_allowed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "in.jsonl").write_text('{"id": "x", "topic": "secret"}\n', encoding="utf-8")
    project = tmp_path / "project"
    project.mkdir()
    (project / "in.jsonl").symlink_to(outside / "in.jsonl")
    (project / "s.yaml").write_text("name: s\nprompts: [{id: p, template: '{{ topic }}'}]\n"
                                    "inputs_file: in.jsonl\n", encoding="utf-8")
    with pytest.raises(SuiteError, match="outside the suite's folder"):
        load_suite(project / "s.yaml")
    assert load_suite(project / "s.yaml", allow_paths=[outside]).inputs[0].id == "x"
    assert load_suite(BAD / "key_env_home.yaml", allow_env=["HOME"]).server.api_key_env == "HOME"


def test_inputs_without_ids_get_readable_unique_ones(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nprompts: [{id: p, template: 'About {{ topic }}'}]\n"
                    "inputs:\n  - {topic: Rain}\n  - {topic: rain}\n  - {topic: 春天 的 雨}\n"
                    "  - {id: rain-2, topic: snow}\n  - {topic: 42}\n", encoding="utf-8")
    suite = load_suite(path)
    assert [i.id for i in suite.inputs] == ["rain", "rain-3", "春天-的-雨", "rain-2", "input-5"]


def test_every_broken_prompt_is_reported_at_once(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nprompts:\n  - {id: a, template: 'About {{ topik }}'}\n"
                    "  - {id: ok, template: 'About {{ topic }}'}\n"
                    "  - {id: b, template: 'About {{ topic'}\n"
                    "inputs: [{topic: rain}]\n", encoding="utf-8")
    with pytest.raises(SuiteError) as err:
        load_suite(path)
    lines = str(err.value).splitlines()
    assert len(lines) == 2
    assert "s.yaml:3:" in lines[0] and "prompts[0] (a)" in lines[0] and "topik" in lines[0]
    assert "s.yaml:5:" in lines[1] and "prompts[2] (b)" in lines[1]


def test_reference_file_and_judge_template_problems_are_reported_at_once(tmp_path):
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01poem")
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nexamples: [{id: e1, output: x}]\nprompts:\n"
                    "  - {id: a, template: 'About {{ topic }}', fewshot: {ids: [nope, e9]}}\n"
                    "  - {id: b, template: 'About {{ topik }}'}\n"
                    "inputs: [{topic: rain}]\n"
                    "sources: [missing.txt, bin.txt]\n"
                    "judges:\n  - {name: j, prompt: 'Rate {{ txt }}'}\n"
                    "  - {name: k, task: 'Write about {{ subject }}'}\n", encoding="utf-8")
    with pytest.raises(SuiteError) as err:
        load_suite(path)
    lines = str(err.value).splitlines()
    assert len(lines) == 7, lines  # prompt a's template is not blamed for its references
    assert "unknown example 'nope'" in lines[0] and "unknown example 'e9'" in lines[1]
    assert "sources[0]" in lines[2] and "not found" in lines[2]
    assert "sources[1]" in lines[3] and "binary" in lines[3]
    assert "prompts[1] (b)" in lines[4] and "topik" in lines[4]
    assert "judges[0] (j) prompt" in lines[5] and "txt" in lines[5]
    assert "judges[1] (k) task" in lines[6] and "subject" in lines[6]
    assert all(line.startswith(f"{path}:") for line in lines)


def test_an_unknown_judge_kind_is_one_line_and_exit_2_from_validate():
    import subprocess
    import sys

    path = BAD / "unknown_judge_kind.yaml"
    got = subprocess.run([sys.executable, "-m", "harness.cli", "validate", str(path)],
                         capture_output=True, text=True, timeout=300)
    assert got.returncode == 2, got.stderr
    lines = [ln for ln in got.stderr.splitlines() if ln.strip()]
    assert lines == [f"error: {path}:6:5: judges[0].kind: unknown judge kind 'vote'; expected "
                     "one of checklist, pairwise, panel, rubric"], got.stderr
