"""`keras-attn demo` for speech: a keyword model and a transcriber on the shipped clips.

1. Keywords: the shortest `speech train` command, with the task's defaults (the `tiny`
   encoder, 15 epochs; `applications/speech/task.py`), on the 320 training clips of
   `data/speech/keywords` (10 words, 63 synthetic espeak-ng voices), scored on the 80 test
   clips spoken by 14 voices never heard in training.
2. Transcription: the encoder-decoder (`--task transcribe`, its defaults but a shorter run,
   `TRANSCRIBE_EPOCHS`) on the 468 training number phrases of `data/speech/numbers`, scored
   (CER, WER, greedy decoding) on the 60 test phrases of unseen numbers and voices.

The same runs from the command line:

    keras-attn speech train --data data/speech/keywords/train --out OUT/keywords
    keras-attn speech evaluate --model OUT/keywords --data data/speech/keywords/test
    keras-attn speech train --data data/speech/numbers/train.tsv --task transcribe --epochs 12 --out OUT/transcribe
    keras-attn speech evaluate --model OUT/transcribe --data data/speech/numbers/test.tsv

The speech is synthetic: this says little about real recordings. Measured numbers are in
the README's "What make demo shows".
"""

import os

from applications import datasets, load

TRANSCRIBE_EPOCHS = 12  # of the task's 40: the demo's time, not the best CER


def run_demo(out_dir, **overrides):
    """Train and evaluate both models; returns their headline numbers. `overrides` are
    `speech train` settings for both runs (e.g. `epochs=1` for a smoke run)."""
    from applications import speech

    keywords = datasets.speech_keywords_dir()
    keyword_dir = os.path.join(out_dir, "keywords")
    summary = speech.train(data=str(keywords / "train"), out=keyword_dir, verbose=2, **overrides)
    scores = load(keyword_dir).evaluate(keywords / "test")

    transcribe_dir = os.path.join(out_dir, "transcribe")
    transcribed = speech.train(data=str(datasets.speech_numbers_manifest("train")), out=transcribe_dir,
                               task="transcribe", verbose=2, **dict(dict(epochs=TRANSCRIBE_EPOCHS), **overrides))
    numbers = load(transcribe_dir).evaluate(datasets.speech_numbers_manifest("test"))
    return {
        "unseen_voice_accuracy": scores["accuracy"],
        "test_clips": scores["clips"],
        "train_clips": summary["num_train_examples"],
        "train_seconds": summary["train_seconds"],
        "transcribe_test_cer": numbers["cer"],
        "transcribe_test_wer": numbers["wer"],
        "transcribe_test_clips": numbers["clips"],
        "transcribe_train_seconds": transcribed["train_seconds"],
    }
