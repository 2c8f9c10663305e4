"""Reference-based metrics: BLEU, chrF (sacreBLEU) and ROUGE-L (rouge-score) of each sample
against its input's gold reference. A sample whose context has no reference scores 0.0."""

from __future__ import annotations

from harness.metrics.diversity import rouge_l_scorer
from harness.metrics.registry import SAMPLE, Resources, SampleContext, metric
from harness.metrics.tokenize import has_cjk


@metric(
    "bleu",
    bounds=(0.0, 100.0),
    kind=SAMPLE,
    description="sentence BLEU (sacreBLEU, 0-100) against the input's reference",
    source="Papineni et al. 2002; Post 2018 (sacreBLEU sentence_bleu)",
    higher_is="better",
    needs=("reference",),
)
def bleu(texts: list[str], contexts: list[SampleContext], resources: Resources) -> list[float]:
    """``sacrebleu.sentence_bleu(text, [reference]).score`` on sacreBLEU's 0-100 scale, with
    its defaults (BLEU-4, ``exp`` smoothing, effective order) and tokenizer ``13a``, or
    ``zh`` when the reference or the text contains CJK characters. Source: Papineni et al.
    2002; Post 2018. No reference: 0.0."""
    import sacrebleu

    out = []
    for text, ctx in zip(texts, contexts, strict=True):
        if ctx.reference is None:
            out.append(0.0)
            continue
        tok = "zh" if has_cjk(ctx.reference) or has_cjk(text) else "13a"
        out.append(sacrebleu.sentence_bleu(text, [ctx.reference], tokenize=tok).score)
    return out


@metric(
    "chrf",
    bounds=(0.0, 100.0),
    kind=SAMPLE,
    description="sentence chrF (sacreBLEU, 0-100) against the input's reference",
    source="Popovic 2015; Post 2018 (sacreBLEU sentence_chrf)",
    higher_is="better",
    needs=("reference",),
)
def chrf(texts: list[str], contexts: list[SampleContext], resources: Resources) -> list[float]:
    """``sacrebleu.sentence_chrf(text, [reference]).score``: character 6-gram F-beta (beta 2)
    on sacreBLEU's 0-100 scale; character-based, so it needs no word segmentation for
    Chinese. Source: Popovic 2015; Post 2018. No reference: 0.0."""
    import sacrebleu

    return [
        0.0 if ctx.reference is None else sacrebleu.sentence_chrf(text, [ctx.reference]).score
        for text, ctx in zip(texts, contexts, strict=True)
    ]


@metric(
    "rouge_l",
    bounds=(0.0, 1.0),
    kind=SAMPLE,
    description="ROUGE-L F1 (rouge-score, 0-1) against the input's reference",
    source="Lin 2004; google-research rouge-score",
    higher_is="better",
    needs=("reference",),
)
def rouge_l(texts: list[str], contexts: list[SampleContext], resources: Resources) -> list[float]:
    """ROUGE-L F1 = ``2PR/(P+R)`` with ``P = LCS/|text|``, ``R = LCS/|reference|`` from
    rouge-score (Lin 2004), no stemming, on harness tokens (each CJK character a token;
    for plain ASCII text this equals rouge-score's default tokenizer except that
    contractions like ``don't`` stay one token). No reference: 0.0."""
    scorer = rouge_l_scorer()
    return [
        0.0 if ctx.reference is None else scorer.score(ctx.reference, text)["rougeL"].fmeasure
        for text, ctx in zip(texts, contexts, strict=True)
    ]
