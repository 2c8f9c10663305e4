from pathlib import Path

from harness.metrics import Resources, SampleContext, score_samples, score_set


def test_lengths():
    texts = ["Hello, world!\n\nSecond line.", "你好世界", ""]
    ctx = [SampleContext(messages=[], prompt_text="") for _ in texts]
    got = score_samples(["length_chars", "length_words", "line_count"], texts, ctx, Resources())
    assert got == {
        "length_chars": [23.0, 4.0, 0.0],  # non-whitespace characters
        "length_words": [4.0, 4.0, 0.0],
        "line_count": [2.0, 1.0, 0.0],
    }
    assert score_set(["mean_length"], texts) == {"mean_length": 8 / 3}
    assert score_set(["mean_length"], []) == {"mean_length": 0.0}


def test_degenerate_flag():
    from harness.metrics import Resources, SampleContext, score_samples

    texts = ["", "   ", "🎉🎉🎉", "!!! ...", "Yes.", "ok sure", "Yes it is.", "春天来", "春天",
             "A real line of verse."]
    ctx = [SampleContext(messages=[], prompt_text="") for _ in texts]
    got = score_samples(["degenerate"], texts, ctx, Resources())["degenerate"]
    assert got == [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0]


SALAD = ("ABSTEROBUS filled OVER the SPEECH al the ADULTS this weather by flower rain Coral "
         "changed rain Friendly star Father Mathowend cutters removing sweet material speaking "
         "a message that As told music originally Sylgard language defending my dad Garden\n"
         "8 points-clay mold feelings feelings updated pink tag soldier XB")


def test_word_salad_is_degenerate_and_poems_are_not():
    """The poetry suite's sample at temperature 1.3 is flagged; every poem of the shipped
    public-domain corpus, and poems with line-initial capitals, names and 'I', are not."""
    from harness.metrics import Resources, SampleContext, score_samples
    from harness.metrics.length import SALAD_SHARE, odd_case_words

    root = Path(__file__).parents[2]
    poems = [p for p in (root / "suites/corpora/public_domain_poems.txt").read_text(
        encoding="utf-8").split("\n\n") if p.strip()]
    poems += ["In the heart of spring, where love is born,\nA moment of pure delight;\n"
              "I walk with Mary by the Thames. The river sings.",
              "The sea, the great sea,\n\"Come,\" says the wind; — And so I go."]
    assert len(poems) >= 7
    texts = [SALAD, *poems]
    ctx = [SampleContext(messages=[], prompt_text="") for _ in texts]
    got = score_samples(["degenerate"], texts, ctx, Resources())["degenerate"]
    assert got == [1.0] + [0.0] * len(poems)
    for p in poems:  # a wide margin, not a near miss
        odd, words = odd_case_words(p)
        assert odd <= SALAD_SHARE / 2 * max(words, 1), p
    assert odd_case_words("sPeech WHEN Moon rises. Then night") == (3, 6)
