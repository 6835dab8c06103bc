"""Corpus BLEU (sacrebleu) and exact match of a translator on a pair file."""

import logging

import sacrebleu

logger = logging.getLogger(__name__)


def score_translations(hypotheses, references):
    """`{"bleu", "chrf", "exact_match", "num_pairs"}` for parallel lists of strings.

    BLEU and chrF are sacrebleu's corpus scores (0-100, default 13a
    tokenization); exact match is the fraction of hypotheses equal to their
    reference after stripping surrounding whitespace.

    >>> score_translations(["le chat", "un chien"], ["le chat", "le chien"])["exact_match"]
    0.5
    """
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references.")
    if not references:
        raise ValueError("Nothing to evaluate: no pairs.")
    exact = sum(h.strip() == r.strip() for h, r in zip(hypotheses, references)) / len(references)
    return {
        "bleu": float(sacrebleu.corpus_bleu(hypotheses, [references]).score),
        "chrf": float(sacrebleu.corpus_chrf(hypotheses, [references]).score),
        "exact_match": float(exact),
        "num_pairs": len(references),
    }


def evaluate_translator(translator, pairs, search="greedy", batch_size=64, num_samples=5, **options):
    """Translate the sources of `pairs` and score them against the targets.

    Returns `score_translations`' dict plus `"samples"`: the first
    `num_samples` `{"source", "reference", "translation"}` dicts.
    """
    sources = [source for source, _ in pairs]
    references = [target for _, target in pairs]
    hypotheses = translator.translate(sources, search=search, batch_size=batch_size, **options)
    results = score_translations(hypotheses, references)
    results["samples"] = [
        {"source": s, "reference": r, "translation": h}
        for s, r, h in list(zip(sources, references, hypotheses))[:num_samples]
    ]
    logger.info("BLEU %.2f, exact match %.3f on %d pairs.", results["bleu"], results["exact_match"], len(pairs))
    return results
