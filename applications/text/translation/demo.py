"""`keras-attn demo` for text: the shortest `text train` command on the shipped Bible verses.

Trains with the task's defaults (the `tiny` size: 2 layers, width 64; 18 epochs; see
`applications/text/translation/task.py`) on the short English-Spanish verse pairs
(`data/text/bible_en_es_short.tsv.gz`, ~2.9 k pairs of at most 12 English words), then
scores greedy translations of the 300 held-out verses (`bible_en_es_test.tsv`) and plots
one alignment. The same run from the command line:

    keras-attn text train --data data/text/bible_en_es_short.tsv.gz --out OUT
    keras-attn text evaluate --model OUT --data data/text/bible_en_es_test.tsv

The model learns the Bible's phrasing ("Y vivió ... y engendró á ...") and many names, not
the meaning of whole verses; a larger size trained for hours on the full corpus
(`bible_en_es.tsv.gz`, ~30 k pairs) does much better. Measured numbers are in the README's
"What make demo shows".
"""

import logging
import os

from applications import datasets, load

logger = logging.getLogger(__name__)


def run_demo(out_dir, **overrides):
    """Train, evaluate and plot one alignment; returns the headline numbers."""
    from applications.text import translation

    paths = datasets.bible_en_es_paths()
    summary = translation.train(data=str(paths["short"]), out=out_dir, strategy="default", verbose=2, **overrides)
    predictor = load(out_dir)
    results = predictor.evaluate(paths["test"], batch_size=100, num_samples=3)
    for sample in results["samples"]:
        logger.info("EN  %s\n    ES  %s\n    MT  %s", sample["source"], sample["reference"], sample["translation"])
    sentence = results["samples"][0]["source"]
    predictor.attention(sentence, os.path.join(out_dir, "attention.png"))
    return {
        "bleu": results["bleu"],
        "chrf": results["chrf"],
        "exact_match": results["exact_match"],
        "test_pairs": results["num_pairs"],
        "sample": f"{sentence} -> {results['samples'][0]['translation']}",
        "train_seconds": summary["train_seconds"],
    }
