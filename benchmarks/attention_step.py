"""Benchmark 1: a causal multi-head attention training step.

keras_attn.layers.MultiHeadAttention vs keras.layers.MultiHeadAttention:
self-attention, causal, batch 8, width 256, 8 heads, forward + backward + SGD
update, at sequence 256 and 1024, without and with XLA.
"""

import numpy as np

from common import LOG, modes, interleaved_median, make_train_step, time_ratio_result

FULL = dict(batch=8, width=256, heads=8, lengths=(256, 1024))
QUICK = dict(batch=2, width=32, heads=4, lengths=(40,))
TARGETS = {0: 1.0, 1: 1.3}  # by position in `lengths`: 1.0x at 256, 1.3x at 1024


def _step(layer, inputs, jit_compile):
    layer(inputs, inputs, use_causal_mask=True)  # build
    return make_train_step(
        lambda x: layer(x, x, use_causal_mask=True), layer.trainable_variables, jit_compile
    )


def run(quick=False, repeats=5):
    import keras
    import tensorflow as tf

    from keras_attn.layers import MultiHeadAttention

    size = QUICK if quick else FULL
    results = []
    for position, length in enumerate(size["lengths"]):
        rng = np.random.default_rng(0)
        inputs = tf.constant(rng.normal(size=(size["batch"], length, size["width"])).astype("float32"))
        for mode, jit_compile in modes(quick):
            keras.utils.set_random_seed(0)
            key_dim = size["width"] // size["heads"]
            ours = _step(MultiHeadAttention(size["heads"], key_dim), inputs, jit_compile)
            theirs = _step(keras.layers.MultiHeadAttention(size["heads"], key_dim), inputs, jit_compile)
            times = interleaved_median(
                {"keras_attn": lambda: ours(inputs), "keras": lambda: theirs(inputs)}, repeats
            )
            LOG.info("1: seq %d %s: %s", length, mode, times)
            results.append(
                time_ratio_result(
                    "1", f"MHA train step, causal, seq {length}", mode, times["keras_attn"],
                    times["keras"], "keras.layers.MultiHeadAttention", TARGETS.get(position),
                )
            )
    return results
