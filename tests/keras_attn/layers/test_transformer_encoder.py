"""TransformerEncoder stack: generic checks, block arguments, the shared position bias,
every block's attention weights."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_attn.layers import RelativePositionBias, TransformerEncoder
from layer_checks import run_layer_checks


def test_generic_layer_checks():
    x = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
    run_layer_checks(
        TransformerEncoder,
        dict(num_layers=2, num_heads=2, intermediate_dim=16, stochastic_depth_rate=0.2),
        {"sequence": x, "padding_mask": np.array([[1, 1, 1, 0, 0], [1] * 5], bool)},
        expected_output_shape=(2, 5, 8),
    )


def test_stochastic_depth_grows_linearly_and_final_norm_follows_norm_first():
    encoder = TransformerEncoder(num_layers=3, num_heads=2, intermediate_dim=8, stochastic_depth_rate=0.2)
    assert [b.stochastic_depth_rate for b in encoder.blocks] == [0.0, 0.1, 0.2]
    assert encoder.output_norm is not None
    assert TransformerEncoder(num_layers=1, num_heads=2, intermediate_dim=8, norm_first=False).output_norm is None


X = np.random.default_rng(1).normal(size=(2, 6, 8)).astype("float32")
PADDING = np.array([[1, 1, 1, 1, 0, 0], [1] * 6], bool)
T5_OPTIONS = dict(
    norm="rms_norm", use_bias=False, gated=True, activation="gelu_approximate", attention_scale=1.0,
    layer_norm_epsilon=1e-6,
)


def _t5_encoder(**kwargs):
    return TransformerEncoder(
        2, 2, 16, position_bias=RelativePositionBias(2, num_buckets=8, max_distance=16), **T5_OPTIONS, **kwargs
    )


def test_generic_layer_checks_t5_options_and_position_bias():
    run_layer_checks(
        TransformerEncoder,
        dict(
            num_layers=2, num_heads=2, intermediate_dim=16,
            position_bias=RelativePositionBias(2, num_buckets=8, max_distance=16), **T5_OPTIONS,
        ),
        {"sequence": X, "padding_mask": PADDING},
        expected_output_shape=(2, 6, 8),
    )


def test_every_block_argument_reaches_every_block_and_the_config():
    encoder = _t5_encoder(rotary_max_wavelength=100, chunk_size=3)
    for block in encoder.blocks:
        for name, value in dict(T5_OPTIONS, rotary_max_wavelength=100, chunk_size=3).items():
            assert getattr(block, name) == value, name
    assert isinstance(encoder.output_norm, keras.layers.RMSNormalization)
    config = encoder.get_config()
    clone = TransformerEncoder.from_config(config)
    assert clone.get_config() == config and isinstance(clone.position_bias, RelativePositionBias)


def test_positional_block_arguments_and_todays_config_still_load():
    today = dict(
        name="encoder", trainable=True, num_layers=2, num_heads=2, intermediate_dim=16, dropout_rate=0.0,
        activation="gelu", norm_first=True, layer_norm_epsilon=1e-5, attention_dropout_rate=0.0,
        stochastic_depth_rate=0.0, key_dim=None, num_key_value_heads=None, chunk_size=None,
        kernel_initializer="glorot_uniform", final_norm=None,
    )
    loaded = TransformerEncoder.from_config(today)
    assert loaded.norm == "layer_norm" and loaded.position_bias is None
    positional = TransformerEncoder(2, 2, 16, 0.0, "gelu")
    assert positional.get_config()["intermediate_dim"] == 16
    with pytest.raises(TypeError):
        TransformerEncoder(2, 2, 16, num_heads=3)  # one argument twice


def test_position_bias_is_computed_once_and_shared_by_every_block(monkeypatch):
    # One BucketedBias per call, the same object for every block; the dense kernel
    # materialises it once.
    encoder = TransformerEncoder(3, 2, 16, position_bias=RelativePositionBias(2, num_buckets=8, max_distance=16))
    encoder(X)
    calls, seen = [], []
    kernel_bias = RelativePositionBias.kernel_bias
    monkeypatch.setattr(
        RelativePositionBias, "kernel_bias", lambda self, *a, **k: calls.append(1) or kernel_bias(self, *a, **k)
    )
    for block in encoder.blocks:
        call = block.call
        monkeypatch.setattr(block, "call", lambda *a, _call=call, **k: seen.append(k["attention_bias"]) or _call(*a, **k))
    encoder(X)
    assert len(calls) == 1 and len(seen) == 3 and all(bias is seen[0] for bias in seen)
    assert list(seen[0]._dense) == [(6, 6)]  # the dense bias, computed once for the three blocks


def test_return_attention_scores_equals_looping_over_the_blocks():
    encoder = _t5_encoder()
    output, scores = encoder(X, padding_mask=PADDING, return_attention_scores=True)
    x, bias = X, encoder.position_bias(X)
    for block, block_scores in zip(encoder.blocks, scores):
        x, want = block(x, padding_mask=PADDING, attention_bias=bias, return_attention_scores=True)
        np.testing.assert_allclose(block_scores, want, atol=1e-6)
    np.testing.assert_allclose(output, encoder.output_norm(x), atol=1e-6)
    np.testing.assert_allclose(output, encoder(X, padding_mask=PADDING), atol=1e-6)
    inputs = keras.Input((6, 8))
    symbolic = encoder(inputs, return_attention_scores=True)
    assert [tuple(s.shape) for s in symbolic[1]] == [(None, 2, 6, 6)] * 2


def test_chunked_with_position_bias_equals_dense_outputs_and_gradients():
    dense = _t5_encoder()
    chunked = TransformerEncoder.from_config(dict(dense.get_config(), chunk_size=4))
    dense(X)
    chunked(X)
    chunked.set_weights(dense.get_weights())

    def run(encoder):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(encoder(X, padding_mask=PADDING) ** 2)
        return loss, tape.gradient(loss, encoder.trainable_weights)

    (want, want_grads), (got, grads) = run(dense), run(chunked)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    table = [i for i, w in enumerate(dense.trainable_weights) if "relative_position_bias" in w.path]
    assert len(table) == 1
    for got_grad, want_grad in zip(grads, want_grads):
        np.testing.assert_allclose(tf.convert_to_tensor(got_grad), tf.convert_to_tensor(want_grad), atol=1e-4)


def test_position_bias_must_match_the_heads():
    with pytest.raises(ValueError, match="position_bias"):
        TransformerEncoder(1, 2, 8, position_bias=RelativePositionBias(3))
    with pytest.raises(ValueError, match="position_bias"):
        TransformerEncoder(1, 2, 8, position_bias="t5")
