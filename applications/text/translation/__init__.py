"""Translation: from a TSV of sentence pairs to an evaluated, exported translator (`keras-attn text`).

    from applications.text import translation
    translation.train(data="pairs.tsv", out="runs/en-es")         # architecture="t5" or "rnn" too
    predictor = applications.load("runs/en-es")        # a TranslationPredictor
    predictor.translate(["Jesus wept."], beam_width=4)
    predictor.evaluate("test.tsv")                      # {"bleu", "chrf", "exact_match", ...}
    predictor.export()                                  # RUN/saved_model

The family's parts: `data` (pair files -> tf.data), `model` (the three architectures:
`model.py` the Transformer, `t5.py`, `rnn.py` with `bahdanau_decoder.py`), `decoding` (the
one interface the translator drives them through), `task` (the recipe and its proven
defaults), `translator` (cached decoding), `predictor` and `commands`. Importing this
package imports no TensorFlow.
"""


def train(**settings):
    """Train a translator: `translation.train(data=..., out=..., epochs=...)`; the keywords are
    the flags of `keras-attn text train`. Returns the summary."""
    from applications.skeleton.settings import resolve_settings
    from applications.skeleton.training import train as train_task
    from applications.text.translation.task import TranslationTask

    task = TranslationTask()
    return train_task(task, resolve_settings(task, **settings), command_line=["applications.text.translation.train"])
