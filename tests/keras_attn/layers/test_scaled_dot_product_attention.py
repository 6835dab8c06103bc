import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_attn.layers.scaled_dot_product_attention import ScaledDotProductAttention
from layer_checks import run_layer_checks

RNG = np.random.default_rng(0)
QUERY = RNG.normal(size=(2, 4, 6)).astype("float32")
VALUE = RNG.normal(size=(2, 5, 6)).astype("float32")
KEY = RNG.normal(size=(2, 5, 6)).astype("float32")
QUERY_MASK = np.array([[True, True, True, False], [True, True, True, True]])
VALUE_MASK = np.array([[True, True, False, False, False], [True, True, True, True, False]])


def _keras_attention(**kwargs):
    return keras.layers.Attention(score_mode="dot", use_scale=False, **kwargs)


@pytest.mark.parametrize(
    "inputs, call_kwargs",
    [
        ({"query": QUERY, "value": VALUE}, {}),
        ({"query": QUERY, "value": VALUE, "key": KEY}, {"return_attention_scores": True}),
        ({"query": VALUE, "value": VALUE}, {"use_causal_mask": True}),
    ],
)
def test_generic_layer_checks(inputs, call_kwargs):
    run_layer_checks(ScaledDotProductAttention, {"dropout_rate": 0.1, "seed": 2}, inputs, call_kwargs)


def test_generic_layer_checks_chunked():
    run_layer_checks(
        ScaledDotProductAttention,
        {"scale": 0.5, "chunk_size": 2},
        {"query": QUERY, "value": VALUE},
        expected_output_shape=(2, 4, 6),
    )


def test_default_scale_matches_numpy():
    out = np.asarray(ScaledDotProductAttention()(QUERY, VALUE, key=KEY))
    logits = np.einsum("bqd,bkd->bqk", QUERY, KEY) / np.sqrt(6)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    np.testing.assert_allclose(out, weights @ VALUE, atol=1e-5)


@pytest.mark.parametrize("use_key", [False, True])
@pytest.mark.parametrize("use_causal_mask", [False, True])
@pytest.mark.parametrize("masks", ["none", "query", "value", "both"])
def test_matches_keras_attention(use_key, use_causal_mask, masks):
    query = VALUE if use_causal_mask else QUERY  # causal: equal lengths as well
    query_mask = {"none": None, "value": None}.get(masks, VALUE_MASK if use_causal_mask else QUERY_MASK)
    value_mask = VALUE_MASK if masks in ("value", "both") else None
    key = KEY if use_key else None
    if masks == "both" and use_causal_mask:
        value_mask = np.array([[True, True, False, True, True], [True] * 5])
    inputs = [query, VALUE] + ([KEY] if use_key else [])
    keras_mask = None if masks == "none" else [query_mask, value_mask]
    want, want_weights = _keras_attention()(
        inputs, mask=keras_mask, use_causal_mask=use_causal_mask, return_attention_scores=True
    )
    layer = ScaledDotProductAttention(scale=1.0)
    # Explicit keyword masks, and the Keras `mask=[...]` form.
    got, weights = layer(
        query, VALUE, key=key, query_mask=query_mask, value_mask=value_mask,
        use_causal_mask=use_causal_mask, return_attention_scores=True,
    )
    got_list = layer(query, VALUE, key=key, mask=keras_mask, use_causal_mask=use_causal_mask)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-5)
    np.testing.assert_allclose(np.asarray(got_list), np.asarray(want), atol=1e-5)
    # Weights agree on every query that is not masked (Keras keeps weights there).
    real = np.ones(query.shape[:2], bool) if query_mask is None else query_mask
    np.testing.assert_allclose(np.asarray(weights)[real], np.asarray(want_weights)[real], atol=1e-5)
    np.testing.assert_array_equal(np.asarray(weights)[~real], 0.0)


def test_causal_with_different_lengths_matches_keras():
    # Keras' causal mask starts at key 0 (query i sees keys 0..i); so does ours.
    want = _keras_attention()([QUERY, VALUE], use_causal_mask=True)
    got = ScaledDotProductAttention(scale=1.0)(QUERY, VALUE, use_causal_mask=True)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-5)


def test_implicit_masks_match_explicit_masks_and_keras():
    query_ids = np.array([[1, 2, 3, 0], [4, 5, 6, 7]])
    value_ids = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 6, 0]])
    embedding = keras.layers.Embedding(8, 6, mask_zero=True)
    q_in = keras.Input((None,), dtype="int32")
    v_in = keras.Input((None,), dtype="int32")
    q, v = embedding(q_in), embedding(v_in)
    ours = ScaledDotProductAttention(scale=1.0)(q, v)
    theirs = _keras_attention()([q, v])
    model = keras.Model([q_in, v_in], [ours, theirs])
    got, want = model([query_ids, value_ids])
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-5)
    # The implicit masks equal passing the same masks explicitly.
    q_emb, v_emb = embedding(query_ids), embedding(value_ids)
    explicit = ScaledDotProductAttention(scale=1.0)(
        np.asarray(q_emb), np.asarray(v_emb), query_mask=query_ids != 0, value_mask=value_ids != 0
    )
    np.testing.assert_allclose(np.asarray(got), np.asarray(explicit), atol=1e-6)
    # The output carries the query's mask.
    assert ours._keras_mask is not None
    eager = ScaledDotProductAttention()(q_emb, v_emb)
    np.testing.assert_array_equal(np.asarray(eager._keras_mask), query_ids != 0)


def test_fully_masked_rows_give_zeros_and_finite_gradients():
    value_mask = np.array([[False] * 5, [True, False, False, False, False]])
    query = tf.constant(QUERY)
    with tf.GradientTape() as tape:
        tape.watch(query)
        out = ScaledDotProductAttention()(query, VALUE, value_mask=value_mask)
        loss = tf.reduce_sum(out)
    np.testing.assert_array_equal(np.asarray(out)[0], 0.0)
    np.testing.assert_allclose(np.asarray(out)[1], np.broadcast_to(VALUE[1, 0], (4, 6)), atol=1e-6)
    assert np.all(np.isfinite(tape.gradient(loss, query)))


def test_float16_large_logits_stay_finite():
    query = np.full((1, 3, 8), 60.0, "float32")  # logits 60*60*8/sqrt(8) ~ 1e4, and masked rows
    layer = ScaledDotProductAttention(dtype="mixed_float16")
    out, weights = layer(query, query, value_mask=np.array([[True, True, False]]), return_attention_scores=True)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert np.all(np.isfinite(np.asarray(out, "float32")))
    np.testing.assert_allclose(np.asarray(weights, "float32").sum(-1), 1.0, atol=1e-3)


def test_chunked_equals_dense():
    dense = ScaledDotProductAttention()(VALUE, VALUE, value_mask=VALUE_MASK, use_causal_mask=True)
    chunked = ScaledDotProductAttention(chunk_size=2)(VALUE, VALUE, value_mask=VALUE_MASK, use_causal_mask=True)
    np.testing.assert_allclose(np.asarray(chunked), np.asarray(dense), atol=1e-5)
    causal_dense = ScaledDotProductAttention()(VALUE, VALUE, use_causal_mask=True)
    causal_chunked = ScaledDotProductAttention(chunk_size=2)(VALUE, VALUE, use_causal_mask=True)
    np.testing.assert_allclose(np.asarray(causal_chunked), np.asarray(causal_dense), atol=1e-5)


def test_dropout_only_in_training():
    layer = ScaledDotProductAttention(dropout_rate=0.5, seed=0)
    inference = np.asarray(layer(QUERY, VALUE))
    np.testing.assert_array_equal(np.asarray(layer(QUERY, VALUE, training=False)), inference)
    assert not np.allclose(np.asarray(layer(QUERY, VALUE, training=True)), inference)


def test_bad_inputs_raise():
    layer = ScaledDotProductAttention()
    with pytest.raises(ValueError, match=r"same last dimension.*query.shape=\(2, 4, 6\).*key.shape=\(2, 5, 3\)"):
        layer(QUERY, VALUE, key=KEY[..., :3])
    with pytest.raises(ValueError, match="same length"):
        layer(QUERY, VALUE, key=KEY[:, :3])
    with pytest.raises(ValueError, match="rank 3"):
        layer(QUERY[0], VALUE)
    with pytest.raises(ValueError, match="batch size"):
        layer(QUERY[:1], VALUE)
    with pytest.raises(ValueError, match=r"value_mask.*\(2, 5\)"):
        layer(QUERY, VALUE, value_mask=VALUE_MASK[:, :3])
    with pytest.raises(ValueError, match=r"\[query_mask, value_mask\]"):
        layer(QUERY, VALUE, mask=VALUE_MASK)
    with pytest.raises(ValueError, match="dropout_rate"):
        ScaledDotProductAttention(dropout_rate=1.5)
    with pytest.raises(ValueError, match="chunk_size"):
        ScaledDotProductAttention(chunk_size=0)
