"""keras_attn.ops.xla_context: the trace-time question "compiled by XLA?"."""

import keras
import numpy as np
import tensorflow as tf

from keras_attn.ops.xla_context import compiling_with_xla


def test_false_eagerly_and_in_plain_graphs_true_under_jit_compile():
    seen = {}

    def probe(name):
        seen[name] = compiling_with_xla()
        return tf.constant(0.0)

    probe("eager")
    tf.function(lambda: probe("graph"))()
    tf.function(lambda: probe("xla"), jit_compile=True)()
    assert seen == {"eager": False, "graph": False, "xla": True}


class _Probe(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, x):
        self.seen.append(compiling_with_xla())
        return x


def test_model_compile_jit_compile_is_seen_inside_fit():
    for jit_compile in (False, True):
        probe = _Probe()
        inputs = keras.Input((2,))
        model = keras.Model(inputs, keras.layers.Dense(1)(probe(inputs)))
        probe.seen.clear()
        model.compile(optimizer="sgd", loss="mse", jit_compile=jit_compile)
        model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0)
        assert probe.seen and all(seen is jit_compile for seen in probe.seen)
