import math

import keras
import numpy as np
import pytest

from keras_attn.layers.feed_forward import FeedForward
from layer_checks import run_layer_checks

X = np.random.default_rng(0).normal(size=(2, 5, 6)).astype("float32")


def _gelu(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def _silu(x):
    return x / (1.0 + np.exp(-x))


@pytest.mark.parametrize(
    "init_kwargs",
    [
        {"intermediate_dim": 12},
        {"intermediate_dim": 12, "activation": "silu", "gated": True, "use_bias": False, "dropout_rate": 0.1},
    ],
)
def test_generic_layer_checks(init_kwargs):
    run_layer_checks(FeedForward, init_kwargs, {"inputs": X}, expected_output_shape=(2, 5, 6))


def test_plain_exact_numbers():
    layer = FeedForward(intermediate_dim=12)
    out = np.asarray(layer(X))
    w1, b1 = (np.asarray(w) for w in layer.intermediate_dense.weights)
    w2, b2 = (np.asarray(w) for w in layer.output_dense.weights)
    np.testing.assert_allclose(out, _gelu(X @ w1 + b1) @ w2 + b2, atol=1e-5)
    assert len(layer.trainable_weights) == 4


def test_gated_exact_numbers():
    layer = FeedForward(intermediate_dim=12, activation="silu", gated=True, use_bias=False)
    out = np.asarray(layer(X))
    w1 = np.asarray(layer.intermediate_dense.kernel)
    w3 = np.asarray(layer.gate_dense.kernel)
    w2 = np.asarray(layer.output_dense.kernel)
    np.testing.assert_allclose(out, (_silu(X @ w1) * (X @ w3)) @ w2, atol=1e-5)
    assert [tuple(w.shape) for w in layer.trainable_weights] == [(6, 12), (6, 12), (12, 6)]


def test_dropout_only_in_training():
    layer = FeedForward(intermediate_dim=64, dropout_rate=0.5)
    inference = np.asarray(layer(X))
    np.testing.assert_array_equal(np.asarray(layer(X, training=False)), inference)
    trained = np.asarray(layer(X, training=True))
    assert not np.allclose(trained, inference)


def test_mask_passes_through():
    ids = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(ids)
    assert FeedForward(8)(embedded)._keras_mask is not None


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="intermediate_dim=0"):
        FeedForward(0)
    with pytest.raises(ValueError, match="dropout_rate=1.0"):
        FeedForward(4, dropout_rate=1.0)
    with pytest.raises(ValueError):
        FeedForward(4, activation="no_such_activation")
