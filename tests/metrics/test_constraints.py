"""constraint_pass on worked examples (English and Chinese) and its cache context."""

from harness.metrics import METRICS, Resources, SampleContext, score_samples
from harness.metrics.constraints import failed_constraints
from harness.metrics.scoring import _context_id

# 800 Chinese characters: 100 lines of 8 characters; the punctuation counts, spaces don't
CHINESE_800 = "\n".join("春风又绿江南岸。" for _ in range(100))
SLOGAN_13 = "Northwind cold brew keeps your summer mornings bright, calm and wonderfully slow too"


def passes(texts, constraints):
    ctx = [SampleContext(messages=[], prompt_text="", constraints=constraints) for _ in texts]
    return score_samples(["constraint_pass"], texts, ctx, Resources())["constraint_pass"]


def test_chinese_length_counts_characters_not_whitespace():
    assert len("".join(CHINESE_800.split())) == 800
    assert passes([CHINESE_800], {"min_chars": 600, "max_chars": 1000}) == [1.0]
    assert passes([CHINESE_800], {"max_chars": 799}) == [0.0]
    assert passes([CHINESE_800[:500]], {"min_chars": 600}) == [0.0]
    # the report's length_chars is the same count
    ctx = [SampleContext(messages=[], prompt_text="")]
    assert score_samples(["length_chars"], [CHINESE_800], ctx, Resources()) == {
        "length_chars": [800.0]}


def test_thirteen_word_slogan_fails_max_words_12():
    assert len(SLOGAN_13.split()) == 13
    assert failed_constraints(SLOGAN_13, {"max_words": 12}) == ["max_words"]
    assert passes([SLOGAN_13, " ".join(SLOGAN_13.split()[:12])], {"max_words": 12}) == [0.0, 1.0]
    assert passes(["湾仔水饺，一口家的味道。"], {"max_words": 12}) == [1.0]  # 10 characters
    assert passes(["湾仔水饺，一口就是家的温暖味道。"], {"max_words": 12}) == [0.0]  # 14


def test_brand_inclusion_is_case_insensitive():
    c = {"must_include": ("Northwind",)}
    assert passes(["NORTHWIND: cold and bright.", "northwind, always", "Cold brew."], c) == [
        1.0, 1.0, 0.0]
    tea = ["山岚乌龙，一口高山云雾。", "高山乌龙茶"]
    assert passes(tea, {"must_include": ("山岚",)}) == [1.0, 0.0]
    assert failed_constraints("Slogan: Quietly.", {"must_not_include": ("slogan:",)}) == [
        "must_not_include"]


def test_exact_and_bounded_line_counts():
    poem = "Red leaves\n\nfall on\nthe quiet\nroad.\n"
    assert passes([poem, "one\ntwo\nthree"], {"lines": 4}) == [1.0, 0.0]
    assert passes([poem], {"min_lines": 2, "max_lines": 3}) == [0.0]
    assert passes([poem], {"min_lines": 4, "max_lines": 4}) == [1.0]
    assert failed_constraints("a\nb", {"lines": 4, "min_words": 3, "must_include": ("z",)}) == [
        "min_words", "lines", "must_include"]


def test_no_constraints_pass_and_empty_text():
    assert passes(["anything", ""], {}) == [1.0, 1.0]
    assert passes([""], {"min_words": 1}) == [0.0]


def test_context_hash_includes_constraints_only_for_metrics_that_read_them():
    a = SampleContext(messages=[], prompt_text="", constraints={"max_words": 12})
    b = SampleContext(messages=[], prompt_text="", constraints={"max_words": 13})
    needs = METRICS["constraint_pass"].needs
    assert _context_id(needs, a, "", "") != _context_id(needs, b, "", "")
    other = METRICS["length_words"].needs
    assert _context_id(other, a, "", "") == _context_id(other, b, "", "")
