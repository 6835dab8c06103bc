"""TransformerEncoderBlock: generic checks, keras-hub parity, masks, properties."""

import warnings

import keras
import keras_hub
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_attn.layers import TransformerEncoderBlock
from keras_hub_parity import copy_from_keras_hub
from layer_checks import run_layer_checks

RNG = np.random.default_rng(0)
SEQUENCE = RNG.normal(size=(2, 6, 16)).astype("float32")
PADDING = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], bool)


@pytest.mark.parametrize("norm_first", [True, False])
def test_generic_layer_checks(norm_first):
    run_layer_checks(
        TransformerEncoderBlock,
        dict(num_heads=4, intermediate_dim=32, norm_first=norm_first, dropout_rate=0.1, stochastic_depth_rate=0.1),
        {"sequence": SEQUENCE, "padding_mask": PADDING},
        expected_output_shape=(2, 6, 16),
    )


@pytest.mark.parametrize("norm_first", [True, False])
def test_equals_keras_hub_transformer_encoder(norm_first):
    theirs = keras_hub.layers.TransformerEncoder(
        intermediate_dim=32, num_heads=4, activation="gelu", normalize_first=norm_first
    )
    ours = TransformerEncoderBlock(num_heads=4, intermediate_dim=32, norm_first=norm_first)
    theirs(SEQUENCE)
    ours(SEQUENCE)
    copy_from_keras_hub(ours, theirs)
    np.testing.assert_allclose(
        np.asarray(ours(SEQUENCE, padding_mask=PADDING))[PADDING],
        np.asarray(theirs(SEQUENCE, padding_mask=PADDING))[PADDING],
        atol=1e-5,
    )


def test_implicit_mask_equals_explicit_mask_without_warnings():
    tokens = np.array([[3, 4, 5, 0, 0], [6, 7, 8, 9, 0]])
    embedding = keras.layers.Embedding(10, 8, mask_zero=True)
    block = TransformerEncoderBlock(num_heads=2, intermediate_dim=16)
    inputs = keras.Input((5,), dtype="int32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "... will therefore destroy the mask information"
        outputs = block(embedding(inputs))
        implicit = keras.Model(inputs, outputs)(tokens)
    assert outputs._keras_mask is not None
    explicit = block(keras.ops.convert_to_numpy(embedding(tokens)), padding_mask=tokens != 0)
    np.testing.assert_allclose(implicit, explicit, atol=1e-6)


def test_fixed_weights_exact_numbers():
    """Pre-norm block with constant weights, against a hand computation."""
    block = TransformerEncoderBlock(num_heads=1, intermediate_dim=2, activation="relu", layer_norm_epsilon=0.0)
    x = np.array([[[1.0, -1.0], [2.0, 0.0]]], "float32")
    block(x)
    for weight in block.weights:
        value = np.full(weight.shape, 0.5, "float32")
        if "gamma" in weight.path or "beta" in weight.path or "bias" in weight.path:
            value = np.ones(weight.shape, "float32") if "gamma" in weight.path else np.zeros(weight.shape, "float32")
        weight.assign(value)
    # Layer norm of [1, -1] and [2, 0] is [1, -1] for both rows, so every query,
    # key and value projection is 0: attention adds 0, x is unchanged. The
    # feed-forward sees [1, -1] -> relu(0.5 - 0.5) = 0 -> adds 0.
    np.testing.assert_allclose(block(x), x, atol=1e-6)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 100), extra=st.integers(1, 4))
def test_appending_padding_changes_no_real_output(seed, extra):
    block = TransformerEncoderBlock(num_heads=2, intermediate_dim=16, kernel_initializer=keras.initializers.GlorotUniform(seed))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(1, 4, 8)).astype("float32")
    padded = np.concatenate([x, rng.normal(size=(1, extra, 8)).astype("float32") * 50], axis=1)
    mask = np.concatenate([np.ones((1, 4), bool), np.zeros((1, extra), bool)], axis=1)
    np.testing.assert_allclose(np.asarray(block(padded, padding_mask=mask))[:, :4], block(x), atol=1e-5)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 100))
def test_permutation_equivariant_without_positions(seed):
    block = TransformerEncoderBlock(num_heads=2, intermediate_dim=16)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(1, 5, 8)).astype("float32")
    order = rng.permutation(5)
    np.testing.assert_allclose(np.asarray(block(x[:, order])), np.asarray(block(x))[:, order], atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num_heads=0, intermediate_dim=8), "num_heads"),
        (dict(num_heads=2, intermediate_dim=-1), "intermediate_dim"),
        (dict(num_heads=2, intermediate_dim=8, dropout_rate=1.0), "dropout_rate"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TransformerEncoderBlock(**kwargs)


def test_width_not_divisible_by_heads():
    with pytest.raises(ValueError, match="divisible by `num_heads`"):
        TransformerEncoderBlock(num_heads=3, intermediate_dim=8)(SEQUENCE)


T5_OPTIONS = dict(
    norm="rms_norm", use_bias=False, gated=True, activation="gelu_approximate", attention_scale=1.0,
    layer_norm_epsilon=1e-6,
)


def test_generic_layer_checks_t5_options_rotary_and_bias():
    bias = RNG.normal(size=(2, 4, 6, 6)).astype("float32")  # batch on axis 0 for the checks' fit step
    run_layer_checks(
        TransformerEncoderBlock,
        dict(num_heads=4, intermediate_dim=32, rotary_max_wavelength=100, **T5_OPTIONS),
        {"sequence": SEQUENCE, "padding_mask": PADDING, "attention_bias": bias},
        expected_output_shape=(2, 6, 16),
    )


def test_t5_options_build_rms_norms_gated_feed_forward_and_no_biases():
    block = TransformerEncoderBlock(num_heads=4, intermediate_dim=32, **T5_OPTIONS)
    block(SEQUENCE)
    assert isinstance(block.self_attention_norm, keras.layers.RMSNormalization)
    assert isinstance(block.feed_forward_norm, keras.layers.RMSNormalization)
    assert block.feed_forward.gated and block.self_attention_layer.scale == 1.0
    assert not [w.path for w in block.weights if w.path.endswith("bias")]
    assert TransformerEncoderBlock.from_config(block.get_config()).get_config() == block.get_config()


def test_return_attention_scores_and_bias():
    block = TransformerEncoderBlock(num_heads=4, intermediate_dim=32)
    bias = RNG.normal(size=(1, 4, 6, 6)).astype("float32")
    output, weights = block(SEQUENCE, padding_mask=PADDING, attention_bias=bias, return_attention_scores=True)
    np.testing.assert_allclose(output, block(SEQUENCE, padding_mask=PADDING, attention_bias=bias), atol=1e-6)
    assert tuple(weights.shape) == (2, 4, 6, 6)
    np.testing.assert_allclose(np.asarray(weights)[0, :, :, 4:], 0.0, atol=1e-7)  # padded keys
    assert not np.allclose(output, block(SEQUENCE, padding_mask=PADDING), atol=1e-3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(norm="batch_norm"), "norm"),
        (dict(activation="no_such_activation"), "activation"),
        (dict(rotary_max_wavelength=0), "rotary_max_wavelength"),
        (dict(attention_scale=-1.0), "attention_scale"),
    ],
)
def test_bad_new_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TransformerEncoderBlock(num_heads=2, intermediate_dim=8, **kwargs)
