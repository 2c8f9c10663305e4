"""Reference-based metrics: BLEU, chrF (sacreBLEU) and ROUGE-L (rouge-score) of each sample
against its input's gold reference. They apply only to samples with a reference
(``needs`` "reference"): a run or ``harness score`` gives the others no value (called
directly, a sample whose context has no reference scores 0.0); a
reference that is not a string is a caller's bug and raises ``TypeError`` naming it (the
inputs are checked where they are read: ``Suite`` types it, ``score_file`` refuses it)."""

from __future__ import annotations

from harness.metrics.diversity import rouge_l_scorer
from harness.metrics.registry import SAMPLE, Resources, SampleContext, metric
from harness.metrics.tokenize import has_cjk


def _reference(ctx: SampleContext, metric_name: str) -> str | None:
    """Return the context's reference (None when it has none); raise ``TypeError`` with
    a readable message when it is not a string, rather than deep inside sacreBLEU."""
    ref = ctx.reference
    if ref is not None and not isinstance(ref, str):
        raise TypeError(f"{metric_name}: the reference must be a string, not "
                        f"{type(ref).__name__} ({ref!r:.60})")
    return ref


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
        ref = _reference(ctx, "bleu")
        if ref is None:
            out.append(0.0)
            continue
        tok = "zh" if has_cjk(ref) or has_cjk(text) else "13a"
        out.append(sacrebleu.sentence_bleu(text, [ref], tokenize=tok).score)
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

    refs = [_reference(ctx, "chrf") for ctx in contexts]
    return [
        0.0 if ref is None else sacrebleu.sentence_chrf(text, [ref]).score
        for text, ref in zip(texts, refs, strict=True)
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
    refs = [_reference(ctx, "rouge_l") for ctx in contexts]
    return [
        0.0 if ref is None else scorer.score(ref, text)["rougeL"].fmeasure
        for text, ref in zip(texts, refs, strict=True)
    ]
