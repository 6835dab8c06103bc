"""`keras-attn demo` for BERT: pretrain briefly on the shipped English Bible text, fine-tune on the
shipped book-kind task from the pretrained encoder and from scratch, and score both.

The corpus is the English side of `data/text/bible_en_es.tsv.gz` without the verses of the
classification test split (`applications.datasets.bible_english_text(exclude=...)`); the task is
`data/text/bible_books_{train,test}.tsv.gz` (7 kinds of book, 1,050 balanced test verses, chance
1/7). Every run uses its command's defaults (`applications/text/bert/task.py`). The same runs
from the command line:

    keras-attn bert pretrain --data OUT/corpus.txt --out OUT/pretrained
    keras-attn bert finetune --data data/text/bible_books_train.tsv.gz --out OUT/finetuned --init OUT/pretrained
    keras-attn bert finetune --data data/text/bible_books_train.tsv.gz --out OUT/scratch
    keras-attn bert evaluate --model OUT/finetuned --data data/text/bible_books_test.tsv.gz

Measured numbers (machine, seconds, accuracy) are in the README's "What make demo shows".
"""

import logging
import os

from applications import datasets, load

logger = logging.getLogger(__name__)


def run_demo(out_dir, pretrain=None, finetune=None, **overrides):
    """Pretrain, fine-tune twice and evaluate; returns the headline numbers.

    `overrides` are settings of both commands (e.g. `max_steps=5` for a smoke run);
    `pretrain` and `finetune` are dicts of settings of one command.
    """
    from applications.text import bert

    os.makedirs(out_dir, exist_ok=True)
    books = datasets.bible_books_paths()
    test_texts = {text for text, _ in datasets.read_bible_books("test")}
    corpus = os.path.join(out_dir, "corpus.txt")
    with open(corpus, "w", encoding="utf-8") as file:
        file.write(datasets.bible_english_text(exclude=test_texts))
    runs = {name: os.path.join(out_dir, name) for name in ("pretrained", "finetuned", "scratch")}
    common = dict(verbose=2, strategy="default", **overrides)
    pretrained = bert.pretrain(data=corpus, out=runs["pretrained"], **common, **(pretrain or {}))
    finetune = dict(common, **(finetune or {}))
    trained = {
        "finetuned": bert.finetune(data=str(books["train"]), out=runs["finetuned"], init=runs["pretrained"], **finetune),
        "scratch": bert.finetune(data=str(books["train"]), out=runs["scratch"], **finetune),
    }
    scores = {name: load(runs[name]).evaluate(str(books["test"])) for name in trained}
    for name, score in scores.items():
        logger.info("%s: test accuracy %.3f, macro F1 %.3f (confusion matrix: %s)", name, score["accuracy"],
                    score["macro_f1"], score.get("confusion_matrix_png"))
    return {
        "test_accuracy_pretrained": scores["finetuned"]["accuracy"],
        "test_accuracy_scratch": scores["scratch"]["accuracy"],
        "macro_f1_pretrained": scores["finetuned"]["macro_f1"],
        "macro_f1_scratch": scores["scratch"]["macro_f1"],
        "val_masked_accuracy": pretrained.get("val_masked_accuracy", pretrained.get("masked_accuracy")),
        "test_verses": scores["finetuned"]["num_examples"],
        "pretrain_seconds": pretrained["train_seconds"],
        "finetune_seconds": trained["finetuned"]["train_seconds"],
        "scratch_seconds": trained["scratch"]["train_seconds"],
    }
