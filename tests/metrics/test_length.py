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
