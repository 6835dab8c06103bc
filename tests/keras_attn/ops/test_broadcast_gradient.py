"""keras_attn.ops.broadcast_gradient: a broadcast operand's gradient summed back to its shape."""

import numpy as np
import tensorflow as tf

from keras_attn.ops.broadcast_gradient import sum_to_shape


def test_equals_automatic_differentiation_of_a_broadcast_add():
    grad = np.random.default_rng(0).normal(size=(2, 3, 4, 5)).astype("float32")
    for shape in [(2, 3, 4, 5), (1, 3, 1, 5), (2, 1, 1, 1), (1, 1, 4, 1)]:
        operand = tf.zeros(shape)
        with tf.GradientTape() as tape:
            tape.watch(operand)
            total = tf.reduce_sum((tf.zeros(grad.shape) + operand) * grad)
        np.testing.assert_allclose(sum_to_shape(grad, shape), tape.gradient(total, operand), atol=1e-5)
