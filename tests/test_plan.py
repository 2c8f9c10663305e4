"""Planning: the expansion, stable keys and per-request seeds."""

from harness.suite.load import load_suite
from harness.suite.plan import cell_id, grid_points, plan


def test_expansion_counts_and_order(tiny_suite):
    suite = load_suite(tiny_suite)
    requests = plan(suite)
    # 2 prompts × 2 temperatures × 2 inputs × 2 samples
    assert len(requests) == 16
    assert [r.cell for r in requests[:4]] == ["plain|temperature=0.7"] * 4
    assert {r.cell for r in requests} == {cell_id(p, g) for p in ("plain", "fewshot")
                                          for g in grid_points(suite)}
    assert len({r.key for r in requests}) == 16


def test_keys_are_stable_and_content_addressed(tiny_suite):
    a = plan(load_suite(tiny_suite))
    b = plan(load_suite(tiny_suite))
    assert [r.key for r in a] == [r.key for r in b]
    assert [r.seed for r in a] == [r.seed for r in b]
    # the seed is per request: all differ
    assert len({r.seed for r in a}) == len(a)
    # another backend or model gives other keys
    assert {r.key for r in plan(load_suite(tiny_suite), backend="vllm")}.isdisjoint(
        r.key for r in a)
    assert {r.key for r in plan(load_suite(tiny_suite), model="other")}.isdisjoint(
        r.key for r in a)


def test_changing_one_variant_changes_only_its_keys(tiny_suite):
    before = plan(load_suite(tiny_suite))
    text = tiny_suite.read_text().replace(
        "  - id: plain\n    template: \"Write a two-line poem",
        "  - id: plain\n    template: \"Write a three-line poem")
    tiny_suite.write_text(text)
    after = plan(load_suite(tiny_suite))
    changed = {r.variant for r, s in zip(before, after, strict=True) if r.key != s.key}
    assert changed == {"plain"}


def test_fewshot_examples_become_chat_turns(tiny_suite):
    requests = [r for r in plan(load_suite(tiny_suite)) if r.variant == "fewshot"]
    r = requests[0]
    roles = [role for role, _ in r.messages]
    assert roles == ["user", "assistant", "user"]
    assert r.messages[1][1] in ("Red leaves fall on the quiet road.", "雪落在安静的山上。")
    assert r.examples == (r.messages[1][1],)
    # the draw is seeded per input: the same input gets the same example in every cell
    by_input = {}
    for req in requests:
        by_input.setdefault(req.input_id, set()).add(req.examples)
    assert all(len(v) == 1 for v in by_input.values())


def test_grid_params_reach_requests(tiny_suite):
    temps = sorted({r.params.temperature for r in plan(load_suite(tiny_suite))})
    assert temps == [0.7, 1.0]
    assert {r.params.max_tokens for r in plan(load_suite(tiny_suite))} == {12}


def test_limit_keeps_first_inputs(tiny_suite):
    requests = plan(load_suite(tiny_suite), limit=1)
    assert {r.input_id for r in requests} == {"spring"}


def test_a_cell_is_a_typed_identity_and_its_label_is_never_parsed_back():
    from harness.records import CellId
    from harness.stats.comparisons import compare_within
    from harness.summarize.cells import summary_from_inputs

    cell = CellId.of("persona", {"temperature": 1.0, "top_p": 0.9})
    assert cell.label == "persona|temperature=1,top_p=0.9"
    assert cell.point == {"temperature": 1.0, "top_p": 0.9} and cell.model is None
    assert CellId.of("plain", {}).label == "plain"
    # comparisons pair cells by their variant and grid fields, not by splitting the label
    values = {f"{v}|temperature=0.7": {"distinct_2": {
        str(i): i / 10 + (v == "b") * (0.01 + i % 3 / 100) for i in range(6)}}
        for v in ("a", "b")}
    summary = summary_from_inputs(values)
    for c in summary["cells"]:
        c["cell"] = f"opaque label {c['variant']}"
    rows = compare_within(summary, by="variant")["rows"]
    assert [r["metric"] for r in rows] == ["distinct_2"] and rows[0]["n_pairs"] == 6
    assert (rows[0]["a_cell"], rows[0]["b_cell"]) == ("opaque label a", "opaque label b")
