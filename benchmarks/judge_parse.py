"""Benchmark the judge-answer parsers (``harness.judges.parse``) on hostile answers: is the
time linear in the answer's length, and how long does a 5 MB answer take?

    python benchmarks/judge_parse.py [--sizes 1000000 5000000] [--repeat 3]

For each answer shape (a run of digits, digits and spaces, repeated verdicts, fractions,
whitespace after a keyword, ...) each parser (score, checklist, choice) runs on answers of
every size; the table shows the best of ``--repeat`` times and the ratio of the largest
size's time to the smallest's (linear: about the size ratio; quadratic: its square). The
old score parser (before issue 22, kept here verbatim) runs on 2,000-8,000 digits, where
its quadratic backtracking already shows.
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

_sys.path.insert(0, str(_Path(__file__).parent))
import argparse
import re
import time
import unicodedata
from collections.abc import Callable

from _machine import machine_line  # noqa: E402

from harness.judges.parse import parse_checklist, parse_choice, parse_score

SHAPES: dict[str, Callable[[int], str]] = {
    "digits": lambda n: "1" * n,
    "digits and spaces": lambda n: "1 " * (n // 2),
    "Score: 7 repeated": lambda n: "Score: 7 " * (n // 9),
    "fractions 1/10": lambda n: "1/10 " * (n // 5),
    "1/1/1...": lambda n: "1/" * (n // 2),
    "keyword, spaces": lambda n: "score" + " " * n + "x",
    "Winner: repeated": lambda n: "Winner: " * (n // 8),
    "yes repeated": lambda n: "yes " * (n // 4),
    "1. yes repeated": lambda n: "1. yes " * (n // 7),
    "letters": lambda n: "a" * n,
}
PARSERS: dict[str, Callable[[str], object]] = {
    "score": lambda a: parse_score(a, 1, 10),
    "checklist": lambda a: parse_checklist(a, 3),
    "choice": parse_choice,
}

# the score parser before issue 22, verbatim
_NUM = r"(-?\d+(?:\.\d+)?)"
_OLD_SCORE_LINE = re.compile(r"(?:score|rating|评分|分数|得分|打分)\s*(?:is|为|是)?\s*[:=]?"
                             r"\s*\**\s*" + _NUM, re.IGNORECASE)
_OLD_JSON_SCORE = re.compile(r'"score"\s*:\s*' + _NUM, re.IGNORECASE)
_OLD_OUT_OF = re.compile(_NUM + r"\s*(?:/|out of|of)\s*(\d+)", re.IGNORECASE)
_OLD_LEADING = re.compile(r"^\W*" + _NUM + r"(?!\s*[/.]\d)(?:\s*分)?(?:\W|$)")


def old_parse_score(answer: str, lo: float, hi: float) -> float | None:
    text = unicodedata.normalize("NFKC", answer or "").replace("*", "").strip()
    for pattern in (_OLD_JSON_SCORE, _OLD_SCORE_LINE):
        found = pattern.findall(text)
        if found:
            v = float(found[-1])
            return v if lo <= v <= hi else None
    out_of = [(v, top) for v, top in _OLD_OUT_OF.findall(text) if float(top) == hi]
    if out_of:
        v = float(out_of[-1][0])
        return v if lo <= v <= hi else None
    m = _OLD_LEADING.match(text)
    return float(m.group(1)) if m and lo <= float(m.group(1)) <= hi else None


def best_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(machine_line())
    sizes = sorted(args.sizes)
    print("\nold score parser on digits (seconds): " + ", ".join(
        f"{n:,}: {best_time(lambda n=n: old_parse_score('1' * n, 1, 10), 1):.2f}"
        for n in (2_000, 4_000, 8_000)))
    print(f"\ncurrent parsers, best of {args.repeat} (seconds); ratio = time at "
          f"{sizes[-1]:,} / time at {sizes[0]:,} characters (size ratio "
          f"{sizes[-1] / sizes[0]:g})")
    print(f"{'shape':<20} {'parser':<10} " + " ".join(f"{n:>12,}" for n in sizes) + "  ratio")
    worst = 0.0
    for shape, make in SHAPES.items():
        answers = {n: make(n) for n in sizes}
        for name, parse in PARSERS.items():
            t = [best_time(lambda a=answers[n], p=parse: p(a), args.repeat) for n in sizes]
            worst = max(worst, t[-1])
            print(f"{shape:<20} {name:<10} " + " ".join(f"{x:>12.3f}" for x in t)
                  + f"  {t[-1] / max(t[0], 1e-9):5.1f}")
    print(f"\nslowest parse of a {sizes[-1]:,}-character answer: {worst:.2f} s")


if __name__ == "__main__":
    main()
