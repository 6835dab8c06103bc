import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_attn.layers.stochastic_depth import StochasticDepth
from layer_checks import run_layer_checks


def test_generic_layer_checks():
    x = np.random.default_rng(0).normal(size=(4, 5, 6)).astype("float32")
    run_layer_checks(StochasticDepth, {"rate": 0.25, "seed": 3}, {"inputs": x}, expected_output_shape=(4, 5, 6))


def test_identity_at_inference_and_rate_zero():
    x = np.random.default_rng(0).normal(size=(8, 3, 4)).astype("float32")
    np.testing.assert_array_equal(np.asarray(StochasticDepth(0.5)(x)), x)
    np.testing.assert_array_equal(np.asarray(StochasticDepth(0.5)(x, training=False)), x)
    np.testing.assert_array_equal(np.asarray(StochasticDepth(0.0)(x, training=True)), x)


def test_drops_whole_examples_and_rescales_survivors():
    rate, batch = 0.3, 4000
    x = np.ones((batch, 3, 2), "float32")
    out = np.asarray(StochasticDepth(rate, seed=0)(x, training=True))
    per_example = out.reshape(batch, -1)
    # Each example is either all zeros or all 1 / (1 - rate).
    dropped = np.all(per_example == 0.0, axis=1)
    kept = np.all(np.isclose(per_example, 1.0 / (1.0 - rate)), axis=1)
    assert np.all(dropped | kept)
    # Binomial(4000, 0.3): standard deviation 0.0072 of the fraction.
    assert abs(dropped.mean() - rate) < 0.03
    assert abs(out.mean() - 1.0) < 0.05


def test_new_pattern_each_step_under_xla():
    layer = StochasticDepth(0.5, seed=1)
    x = tf.ones((64, 4))

    @tf.function(jit_compile=True)
    def step(x):
        return layer(x, training=True)

    first, second = np.asarray(step(x)), np.asarray(step(x))
    assert set(np.unique(first)) <= {0.0, 2.0}
    assert not np.array_equal(first, second)


def test_seeded_layers_repeat():
    x = np.ones((32, 2), "float32")
    a = np.asarray(StochasticDepth(0.5, seed=7)(x, training=True))
    b = np.asarray(StochasticDepth(0.5, seed=7)(x, training=True))
    np.testing.assert_array_equal(a, b)


def test_float16_survivor_scale():
    out = StochasticDepth(0.2, seed=0, dtype="mixed_float16")(np.ones((16, 2), "float32"), training=True)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert set(np.unique(np.asarray(out, "float32")).round(3)) <= {0.0, 1.25}


@pytest.mark.parametrize("rate", [1.0, -0.1, "0.5"])
def test_bad_rate_raises(rate):
    with pytest.raises(ValueError, match="rate"):
        StochasticDepth(rate)
