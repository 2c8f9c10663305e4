"""Fixed corpora the metric tests run on."""

from __future__ import annotations

from tests.metrics.synthetic import synthetic_texts

ENGLISH = [
    "The old lighthouse keeper watched the storm roll in from the sea.",
    "Waves crashed against the rocks, and the keeper lit the great lamp.",
    "Nobody had visited the lighthouse in years, but the keeper didn't mind.",
    "The storm raged all night; by morning the sea was calm again.",
    "A small boat drifted toward the shore, its sail torn by the wind.",
    "The keeper rowed out to meet it, lantern in hand.",
    "Inside the boat, a child slept under a wet wool blanket.",
    "The old lighthouse keeper watched the storm roll in from the sea.",
]

CHINESE = [
    "春天来了，花园里的花都开了。",
    "小明每天早上都去公园跑步。",
    "春天来了，小鸟在树上唱歌。",
    "我们一起去北京看长城吧！",
    "今天的天气很好，我们去公园散步。",
]

REPETITIVE = [
    "I like it. I like it. I like it. I like it. I like it. I like it.",
    "the the the the the the the the the the",
    "and then we went home and then we went home and then we went home",
    "A completely normal sentence without any loop at the end.",
]

IDENTICAL = ["The quick brown fox jumps over the lazy dog."] * 4

EDGE = ["", "word", "two words", "Three words here.", "", "a b c d e f g h i j"]

MIXED = ENGLISH[:3] + CHINESE[:2] + ["", "x"]


def synthetic(n: int, length: int, seed: int = 0, vocab: int = 2000) -> list[str]:
    """``n`` texts of about ``length`` made-up words from a seeded Zipf-like sampler."""
    return synthetic_texts(n, length, seed=seed, vocab=vocab)
