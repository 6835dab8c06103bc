"""`keras-attn demo` for speech: the shortest `speech train` command on the shipped keywords.

Trains with the task's defaults (the `tiny` encoder, 15 epochs; `applications/speech/task.py`)
on the 320 training clips of `data/speech/keywords` (10 words, 63 synthetic espeak-ng voices)
and scores it on the 80 test clips, spoken by 14 voices never heard in training. The same
run from the command line:

    keras-attn speech train --data data/speech/keywords/train --out OUT
    keras-attn speech evaluate --model OUT --data data/speech/keywords/test

The speech is synthetic: this says little about real recordings. Measured numbers are in
the README's "What make demo shows".
"""

from applications import datasets, load


def run_demo(out_dir, **overrides):
    """Train and evaluate the keyword model; returns its headline numbers."""
    from applications import speech

    keywords = datasets.speech_keywords_dir()
    summary = speech.train(data=str(keywords / "train"), out=out_dir, verbose=2, **overrides)
    scores = load(out_dir).evaluate(keywords / "test")
    return {
        "unseen_voice_accuracy": scores["accuracy"],
        "test_clips": scores["clips"],
        "train_clips": summary["num_train_examples"],
        "train_seconds": summary["train_seconds"],
    }
