import importlib

from harness.metrics.tokenize import has_cjk, token_spans, tokenize


def test_words_lowercase_and_punctuation_dropped():
    assert tokenize("Hello, World! It's 3.14 -- state-of-the-art.") == [
        "hello",
        "world",
        "it's",
        "3",
        "14",
        "state",
        "of",
        "the",
        "art",
    ]
    assert tokenize("Hello, world!") == tokenize("hello world")
    assert tokenize("don’t") == ["don't"]
    assert tokenize("snake_case 'quoted'") == ["snake", "case", "quoted"]


def test_unicode_words_and_nfkc():
    assert tokenize("Café naïve Straße") == ["café", "naïve", "straße"]
    assert tokenize("ＡＢＣ１２３") == ["abc123"]
    assert tokenize("Привет, мир") == ["привет", "мир"]


def test_each_cjk_character_is_a_token():
    assert tokenize("我爱北京天安门。") == ["我", "爱", "北", "京", "天", "安", "门"]
    assert tokenize("こんにちは世界") == list("こんにちは世界")
    assert tokenize("안녕하세요") == list("안녕하세요")
    assert tokenize("GPT模型很好用") == ["gpt", "模", "型", "很", "好", "用"]
    assert has_cjk("abc中") and not has_cjk("abc")


def test_empty_and_spans():
    assert tokenize("") == [] and tokenize(" ,.!? ") == []
    text = "Hi, 你好!"
    assert [text[a:b] for a, b in token_spans(text)] == ["Hi", "你", "好"]


def test_ascii_fast_path_agrees_with_general_rules():
    module = importlib.import_module("harness.metrics.tokenize")  # the package re-exports

    text = "Hello, World! It's 3.14 -- state-of-the-art. snake_case 'quoted' x'y ''z"
    general = [module._normalize(m.group()) for m in module._TOKEN_RE.finditer(text)]
    assert tokenize(text) == general
    assert tokenize(text + " é") == general + ["é"]
