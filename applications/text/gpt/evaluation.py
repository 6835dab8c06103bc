"""Scores of a language model on a text: loss, perplexity, bits per character, tokens.

`score_text(model, ids, num_characters, sequence_length, batch_size)` reads the ids in
windows of `sequence_length` that overlap by one token (`data.evaluation_windows`), so every
token but the first is predicted once from up to `sequence_length - 1` tokens before it:

- `loss`: the mean cross-entropy (nats) of the predicted tokens;
- `perplexity`: `exp(loss)`;
- `bits_per_character`: the summed cross-entropy in bits over the number of characters of
  the evaluated text, so a character model and a subword model can be compared;
- `tokens`: the predicted tokens; `characters`: the text's characters.

Example:

>>> round(bits_per_character(total_nats=693.147, num_characters=1000), 3)
1.0
"""

import math

import numpy as np


def bits_per_character(total_nats, num_characters):
    """Summed cross-entropy in nats -> bits per character."""
    return float(total_nats) / math.log(2.0) / max(1, int(num_characters))


def batch_scorer(model):
    """A compiled `(inputs, labels) -> (summed nats, counted tokens)` for one batch."""
    import tensorflow as tf

    from applications.text.gpt.data import IGNORE_LABEL

    @tf.function(jit_compile=True, reduce_retracing=True)
    def score(inputs, labels):
        logits = tf.cast(model(inputs, training=False), tf.float32)  # (B, T, V)
        counted = tf.not_equal(labels, IGNORE_LABEL)
        nats = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.maximum(labels, 0), logits=logits)
        return tf.reduce_sum(tf.where(counted, nats, 0.0)), tf.reduce_sum(tf.cast(counted, tf.int32))

    return score


def score_text(model, ids, num_characters, sequence_length, batch_size, pad_id=0):
    """The scores of the module doc for token `ids` of a text of `num_characters` characters."""
    from applications.text.gpt.data import evaluation_windows

    inputs, labels = evaluation_windows(ids, sequence_length, batch_size, pad_id)
    score = batch_scorer(model)
    total, tokens = 0.0, 0
    for start in range(0, len(inputs), batch_size):
        nats, count = score(inputs[start : start + batch_size], labels[start : start + batch_size])
        total += float(np.float64(nats))
        tokens += int(count)
    loss = total / max(1, tokens)
    return {"loss": loss, "perplexity": math.exp(min(loss, 700.0)),
            "bits_per_character": bits_per_character(total, num_characters), "tokens": tokens,
            "characters": int(num_characters)}
