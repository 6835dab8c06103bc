"""Benchmark 2: a Transformer encoder block training step.

keras_attn.layers.TransformerEncoderBlock vs keras_hub.layers.TransformerEncoder,
both pre-norm, GELU, feed-forward 4x width, no dropout, no mask (bidirectional),
batch 8, width 256, 8 heads, sequence 256 and 1024, without and with XLA.
"""

import numpy as np

from common import LOG, modes, interleaved_median, make_train_step, time_ratio_result

FULL = dict(batch=8, width=256, heads=8, lengths=(256, 1024))
QUICK = dict(batch=2, width=32, heads=4, lengths=(40,))
TARGETS = {0: 1.0, 1: 1.3}


def run(quick=False, repeats=5):
    import keras
    import keras_hub
    import tensorflow as tf

    from keras_attn.layers import TransformerEncoderBlock

    size = QUICK if quick else FULL
    intermediate = 4 * size["width"]
    results = []
    for position, length in enumerate(size["lengths"]):
        rng = np.random.default_rng(0)
        inputs = tf.constant(rng.normal(size=(size["batch"], length, size["width"])).astype("float32"))
        for mode, jit_compile in modes(quick):
            keras.utils.set_random_seed(0)
            ours_block = TransformerEncoderBlock(
                num_heads=size["heads"], intermediate_dim=intermediate, norm_first=True
            )
            theirs_block = keras_hub.layers.TransformerEncoder(
                intermediate_dim=intermediate, num_heads=size["heads"], activation="gelu",
                normalize_first=True, layer_norm_epsilon=1e-5,
            )
            steps = {}
            for name, block in (("keras_attn", ours_block), ("keras_hub", theirs_block)):
                block(inputs)  # build
                step = make_train_step(block, block.trainable_variables, jit_compile)
                steps[name] = (lambda step: lambda: step(inputs))(step)
            times = interleaved_median(steps, repeats)
            LOG.info("2: seq %d %s: %s", length, mode, times)
            results.append(
                time_ratio_result(
                    "2", f"encoder block train step, seq {length}", mode, times["keras_attn"],
                    times["keras_hub"], "keras_hub.layers.TransformerEncoder", TARGETS.get(position),
                )
            )
    return results
