"""MultiHeadAttention's position hooks: `attention_bias`, rotary positions, the logit `scale`.

(The rest of the layer is tested in test_multi_head_attention.py.)
"""

import numpy as np
import pytest
import tensorflow as tf

from keras_attn.layers import MultiHeadAttention, RelativePositionBias, RotaryEmbedding
from keras_attn.ops import scaled_dot_product_attention
from layer_checks import run_layer_checks

RNG = np.random.default_rng(0)
QUERY = RNG.normal(size=(2, 6, 16)).astype("float32")
BIAS = RNG.normal(size=(1, 4, 6, 6)).astype("float32")
PADDING = np.array([[1, 1, 1, 1, 0, 0], [1] * 6], bool)


def _manual(layer, query, bias=None, rotary=None, causal=False, mask=None, scale=None):
    """The layer's own projections through the kernel, positions applied by hand."""
    q, k, v = layer.query_dense(query), layer.key_dense(query), layer.value_dense(query)
    if rotary is not None:
        q, k = rotary(q), rotary(k)
    out = scaled_dot_product_attention(q, k, v, mask=mask, bias=bias, is_causal=causal, scale=scale)
    return layer.output_dense(out)


def test_generic_layer_checks_with_rotary_scale_and_bias():
    run_layer_checks(
        MultiHeadAttention,
        dict(num_heads=4, key_dim=4, num_key_value_heads=2, scale=0.5, rotary_max_wavelength=100),
        {"query": QUERY, "value": QUERY, "attention_bias": np.repeat(BIAS, 2, axis=0)},  # batch on axis 0
        call_kwargs=dict(use_causal_mask=True),
        expected_output_shape=(2, 6, 16),
    )


@pytest.mark.parametrize("kv_heads", [4, 2])
@pytest.mark.parametrize("chunk_size", [None, 4])
@pytest.mark.parametrize("causal, padded", [(True, False), (True, True), (False, True)])
def test_bias_is_added_to_the_logits(kv_heads, chunk_size, causal, padded):
    layer = MultiHeadAttention(num_heads=4, key_dim=4, num_key_value_heads=kv_heads, chunk_size=chunk_size)
    kwargs = dict(value_mask=PADDING) if padded else {}
    got = layer(QUERY, QUERY, use_causal_mask=causal, attention_bias=BIAS, **kwargs)
    mask = np.broadcast_to(PADDING[:, None, None, :], (2, 1, 6, 6)) if padded else None
    if causal and padded:
        mask = mask & np.tril(np.ones((6, 6), bool))
    want = _manual(layer, QUERY, bias=BIAS, causal=causal and not padded, mask=mask)
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert not np.allclose(got, layer(QUERY, QUERY, use_causal_mask=causal, **kwargs), atol=1e-3)


def test_weights_include_the_bias():
    layer = MultiHeadAttention(num_heads=4, key_dim=4)
    hide_last_key = np.zeros((1, 1, 1, 6), "float32")
    hide_last_key[..., -1] = -1e9
    _, weights = layer(QUERY, QUERY, attention_bias=hide_last_key, return_attention_scores=True)
    weights = np.asarray(weights)
    np.testing.assert_allclose(weights[..., -1], 0.0, atol=1e-7)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)


@pytest.mark.parametrize("chunk_size", [None, 3])
def test_cached_bias_rows_and_rotary_equal_the_full_pass(chunk_size):
    layer = MultiHeadAttention(num_heads=4, key_dim=4, rotary_max_wavelength=50, chunk_size=chunk_size)
    position_bias = RelativePositionBias(num_heads=4, num_buckets=8, max_distance=10, bidirectional=False)
    full = layer(QUERY, QUERY, use_causal_mask=True, attention_bias=position_bias(QUERY))
    cache = np.zeros((2, 2, 6, 4, 4), "float32")
    steps = []
    for index, stop in ((0, 2), (2, 3), (3, 6)):  # several new steps at a time, too
        new = QUERY[:, index:stop]
        bias = position_bias.kernel_bias(query_start_index=index)  # rows index..stop-1, keys: the cache
        out, cache = layer(new, new, use_causal_mask=True, attention_bias=bias, cache=cache, cache_update_index=index)
        steps.append(out)
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)


def test_rotary_equals_rotating_the_projections_by_hand():
    layer = MultiHeadAttention(num_heads=4, key_dim=4, rotary_max_wavelength=100)
    got = layer(QUERY, QUERY, use_causal_mask=True)
    want = _manual(layer, QUERY, rotary=RotaryEmbedding(max_wavelength=100), causal=True)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_rotary_attention_sees_only_relative_positions():
    # Without a mask, shifting every position by the same amount changes nothing:
    # a cached pass starting at index 3 equals a fresh pass from 0.
    layer = MultiHeadAttention(num_heads=4, key_dim=4, rotary_max_wavelength=100)
    fresh = layer(QUERY, QUERY)
    cache = np.zeros((2, 2, 9, 4, 4), "float32")
    shifted, _ = layer(
        QUERY, QUERY, cache=cache, cache_update_index=3,
        attention_mask=np.arange(9)[None, None, :] >= 3,  # the 6 new keys only
    )
    np.testing.assert_allclose(shifted, fresh, atol=1e-5)


def test_scale_one_equals_default_with_queries_scaled_by_sqrt_key_dim():
    scaled = MultiHeadAttention(num_heads=2, key_dim=4, scale=1.0)
    default = MultiHeadAttention(num_heads=2, key_dim=4)
    scaled(QUERY, QUERY)
    default(QUERY, QUERY)
    weights = scaled.get_weights()
    default.set_weights([weights[0] * 2.0, weights[1] * 2.0] + weights[2:])  # query kernel, bias x sqrt(4)
    np.testing.assert_allclose(scaled(QUERY, QUERY), default(QUERY, QUERY), atol=1e-5)


def test_bias_gradient_flows_to_the_relative_position_table():
    layer = MultiHeadAttention(num_heads=4, key_dim=4, chunk_size=4)
    position_bias = RelativePositionBias(num_heads=4, num_buckets=8, max_distance=10)
    position_bias.build()
    with tf.GradientTape() as tape:
        out = layer(QUERY, QUERY, attention_bias=position_bias.kernel_bias())
        loss = tf.reduce_sum(out**2)
    gradient = tape.gradient(loss, position_bias.embeddings)
    assert gradient is not None and np.abs(np.asarray(gradient)).sum() > 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(scale=0.0), "scale"),
        (dict(scale="big"), "scale"),
        (dict(rotary_max_wavelength=-1), "rotary_max_wavelength"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MultiHeadAttention(num_heads=2, key_dim=4, **kwargs)


def test_rotary_needs_an_index_with_a_cache():
    layer = MultiHeadAttention(num_heads=2, key_dim=4, rotary_max_wavelength=100)
    layer(QUERY, QUERY)
    with pytest.raises(ValueError, match="cache_update_index"):
        layer(QUERY, QUERY, cache=np.zeros((2, 2, 6, 2, 4), "float32"))
