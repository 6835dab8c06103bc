import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_attn.layers.additive_attention import AdditiveAttention
from layer_checks import run_layer_checks

RNG = np.random.default_rng(0)
QUERY = RNG.normal(size=(2, 4, 6)).astype("float32")
VALUE = RNG.normal(size=(2, 5, 6)).astype("float32")
KEY = RNG.normal(size=(2, 5, 6)).astype("float32")
QUERY_MASK = np.array([[True, True, True, False], [True, True, True, True]])
VALUE_MASK = np.array([[True, True, False, False, False], [True, True, True, True, False]])


@pytest.mark.parametrize(
    "init_kwargs, inputs, call_kwargs",
    [
        ({"units": 8}, {"query": QUERY, "value": VALUE}, {}),
        (
            {"units": 3, "use_bias": False, "dropout_rate": 0.2, "seed": 1},
            {"query": QUERY[..., :4], "value": VALUE, "key": KEY[..., :2]},
            {"return_attention_scores": True},
        ),
        ({"units": 5}, {"query": VALUE, "value": VALUE}, {"use_causal_mask": True}),
    ],
)
def test_generic_layer_checks(init_kwargs, inputs, call_kwargs):
    run_layer_checks(AdditiveAttention, init_kwargs, inputs, call_kwargs)


def _identity_layer(keras_layer, dim):
    """Ours with W_q = W_k = I, no bias and v = Keras' scale vector."""
    layer = AdditiveAttention(units=dim, use_bias=False)
    layer.build(QUERY.shape, VALUE.shape, KEY.shape)
    layer.query_dense.kernel.assign(np.eye(dim, dtype="float32"))
    layer.key_dense.kernel.assign(np.eye(dim, dtype="float32"))
    layer.score_vector.assign(keras_layer.scale)
    return layer


@pytest.mark.parametrize("use_key", [False, True])
@pytest.mark.parametrize("use_causal_mask", [False, True])
@pytest.mark.parametrize("masks", ["none", "query", "value", "both"])
def test_matches_keras_additive_attention(use_key, use_causal_mask, masks):
    query = VALUE if use_causal_mask else QUERY
    query_mask = None if masks in ("none", "value") else (VALUE_MASK if use_causal_mask else QUERY_MASK)
    value_mask = VALUE_MASK if masks in ("value", "both") else None
    key = KEY if use_key else None
    inputs = [query, VALUE] + ([KEY] if use_key else [])
    keras_mask = None if masks == "none" else [query_mask, value_mask]
    keras_layer = keras.layers.AdditiveAttention(use_scale=True)
    want, want_weights = keras_layer(
        inputs, mask=keras_mask, use_causal_mask=use_causal_mask, return_attention_scores=True
    )
    layer = _identity_layer(keras_layer, 6)
    got, weights = layer(
        query, VALUE, key=key, query_mask=query_mask, value_mask=value_mask,
        use_causal_mask=use_causal_mask, return_attention_scores=True,
    )
    got_list = layer(query, VALUE, key=key, mask=keras_mask, use_causal_mask=use_causal_mask)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-5)
    np.testing.assert_allclose(np.asarray(got_list), np.asarray(want), atol=1e-5)
    real = np.ones(query.shape[:2], bool) if query_mask is None else query_mask
    np.testing.assert_allclose(np.asarray(weights)[real], np.asarray(want_weights)[real], atol=1e-5)
    np.testing.assert_array_equal(np.asarray(weights)[~real], 0.0)


def test_exact_numbers_with_projections():
    layer = AdditiveAttention(units=3)
    layer.build(QUERY.shape, VALUE.shape, KEY.shape)
    w_q = np.asarray(layer.query_dense.kernel)
    w_k = np.asarray(layer.key_dense.kernel)
    v = np.asarray(layer.score_vector)
    layer.query_dense.bias.assign(np.array([0.1, -0.2, 0.3], "float32"))
    b = np.asarray(layer.query_dense.bias)
    out = np.asarray(layer(QUERY, VALUE, key=KEY, value_mask=VALUE_MASK))
    hidden = np.tanh((QUERY @ w_q + b)[:, :, None, :] + (KEY @ w_k)[:, None, :, :])
    scores = hidden @ v
    scores = np.where(VALUE_MASK[:, None, :], scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    np.testing.assert_allclose(out, weights @ VALUE, atol=1e-5)
    assert sorted(w.name for w in layer.trainable_weights) == ["bias", "kernel", "kernel", "score_vector"]


def test_implicit_masks_match_explicit_masks():
    query_ids = np.array([[1, 2, 3, 0], [4, 5, 6, 7]])
    value_ids = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 6, 0]])
    embedding = keras.layers.Embedding(8, 6, mask_zero=True)
    layer = AdditiveAttention(units=4)
    q_in = keras.Input((None,), dtype="int32")
    v_in = keras.Input((None,), dtype="int32")
    attended = layer(embedding(q_in), embedding(v_in))
    model = keras.Model([q_in, v_in], attended)
    got = np.asarray(model([query_ids, value_ids]))
    explicit = layer(
        np.asarray(embedding(query_ids)), np.asarray(embedding(value_ids)),
        query_mask=query_ids != 0, value_mask=value_ids != 0,
    )
    np.testing.assert_allclose(got, np.asarray(explicit), atol=1e-6)
    np.testing.assert_array_equal(got[0, 3], 0.0)  # the padded query
    assert attended._keras_mask is not None


def test_fully_masked_rows_give_zeros_not_nan():
    layer = AdditiveAttention(units=4)
    value_mask = np.array([[False] * 5, [True] * 5])
    query = tf.constant(QUERY)
    with tf.GradientTape() as tape:
        tape.watch(query)
        out = layer(query, VALUE, value_mask=value_mask)
        loss = tf.reduce_sum(out)
    out = np.asarray(out)
    np.testing.assert_array_equal(out[0], 0.0)
    assert np.all(np.isfinite(out))
    assert np.all(np.isfinite(tape.gradient(loss, query)))
    half = AdditiveAttention(units=4, dtype="mixed_float16")
    half_out = np.asarray(half(QUERY, VALUE, value_mask=value_mask), "float32")
    np.testing.assert_array_equal(half_out[0], 0.0)
    assert np.all(np.isfinite(half_out))


def test_dropout_only_in_training():
    layer = AdditiveAttention(units=4, dropout_rate=0.5, seed=0)
    inference = np.asarray(layer(QUERY, VALUE))
    np.testing.assert_array_equal(np.asarray(layer(QUERY, VALUE, training=False)), inference)
    assert not np.allclose(np.asarray(layer(QUERY, VALUE, training=True)), inference)


def test_bad_inputs_raise():
    layer = AdditiveAttention(units=4)
    with pytest.raises(ValueError, match=r"same length.*key.shape=\(2, 3, 6\)"):
        layer(QUERY, VALUE, key=KEY[:, :3])
    with pytest.raises(ValueError, match="rank 3"):
        layer(QUERY[0], VALUE)
    with pytest.raises(ValueError, match=r"query_mask.*\(2, 4\)"):
        layer(QUERY, VALUE, query_mask=VALUE_MASK)
    with pytest.raises(ValueError, match="units"):
        AdditiveAttention(units=0)


def test_key_cache_equals_projecting_the_keys_at_every_call():
    layer = AdditiveAttention(units=4)
    expected, expected_weights = layer(QUERY, VALUE, key=KEY, value_mask=VALUE_MASK, return_attention_scores=True)
    keys = layer.compute_key_cache(KEY)  # (B, Tv, units)
    assert tuple(keys.shape) == (2, 5, 4)
    got, weights = layer(QUERY, VALUE, key_cache=keys, value_mask=VALUE_MASK, return_attention_scores=True)
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), atol=1e-6)
    np.testing.assert_allclose(np.asarray(weights), np.asarray(expected_weights), atol=1e-6)
    # One query at a time (a decoder's steps) under XLA, the keys projected once.
    step = tf.function(lambda q, k: layer(q, VALUE, key_cache=k, value_mask=VALUE_MASK), jit_compile=True)
    steps = np.concatenate([np.asarray(step(QUERY[:, i : i + 1], keys)) for i in range(QUERY.shape[1])], axis=1)
    np.testing.assert_allclose(steps, np.asarray(expected), atol=1e-5)


def test_key_cache_is_refused_by_a_layer_without_key_projection():
    from keras_attn.layers import ScaledDotProductAttention

    with pytest.raises(ValueError, match=r"does not project its keys.*key_cache.shape=\(2, 5, 6\)"):
        ScaledDotProductAttention()(QUERY, VALUE, key_cache=KEY)
