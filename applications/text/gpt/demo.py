"""`keras-attn demo` for GPT: the shortest `gpt train` command on the shipped English Bible text.

Writes the first `DEMO_CHARACTERS` characters of the English side of the shipped verses
(`applications.datasets.bible_english_text`, one verse a line) to `OUT/bible_en.txt`, trains
a character model with the task's defaults (the `small` size, context 64, batch 12, one
epoch; see `applications/text/gpt/task.py`), reports the validation bits per character (the
last 10 % of that text) and samples a continuation. The same run from the command line:

    keras-attn gpt train --data OUT/bible_en.txt --out OUT/run
    keras-attn gpt generate --model OUT/run --prompt "And God said" --max-new-tokens 120 --top-p 0.9

Measured numbers (machine, seconds, bits per character) are in the README's "What make demo shows".
"""

import logging
import os

from applications import datasets, load

logger = logging.getLogger(__name__)

DEMO_CHARACTERS = 500_000  # 585 steps of 12 x 64 characters: about a minute on 2 CPU cores
PROMPT = "And God said"


def write_demo_text(path, characters=DEMO_CHARACTERS):
    """The first `characters` characters of the English verses, cut at a line end; returns `path`."""
    text = datasets.bible_english_text()[:characters]
    text = text[: text.rfind("\n") + 1] or text
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    return path


def run_demo(out_dir, characters=DEMO_CHARACTERS, **overrides):
    """Train on the shipped English text and sample; returns the headline numbers.

    `overrides` are `gpt train` settings (e.g. `max_steps=20` for a smoke run).
    """
    from applications.text import gpt

    data = write_demo_text(os.path.join(out_dir, "bible_en.txt"), characters)
    run_dir = os.path.join(out_dir, "run")
    trained = gpt.train(data=data, out=run_dir, strategy="default", verbose=2, **overrides)
    predictor = load(run_dir)
    [sample] = predictor.generate([PROMPT], max_new_tokens=120, temperature=0.8, top_p=0.95, seed=0)
    logger.info("Sample: %s%s", PROMPT, sample["continuation"])
    return {
        "val_bits_per_character": trained["val_bits_per_character"],
        "val_loss": trained["val_loss"],
        "sample": PROMPT + sample["continuation"],
        "train_seconds": trained["train_seconds"],
        "parameters": trained["num_parameters"],
    }
