"""MultiHeadAttention: generic checks, parity with Keras, masks, GQA, cache."""

import keras
import numpy as np
import pytest

from keras_attn.layers import MultiHeadAttention
from layer_checks import run_layer_checks

RNG = np.random.default_rng(0)
QUERY = RNG.normal(size=(2, 5, 16)).astype("float32")
VALUE = RNG.normal(size=(2, 7, 12)).astype("float32")


def test_generic_layer_checks():
    run_layer_checks(
        MultiHeadAttention,
        dict(num_heads=2, key_dim=4),
        {"query": QUERY, "value": VALUE},
        expected_output_shape=(2, 5, 16),
    )


def test_generic_layer_checks_causal_chunked_gqa():
    run_layer_checks(
        MultiHeadAttention,
        dict(num_heads=4, key_dim=4, num_key_value_heads=2, chunk_size=2, output_shape=6, dropout=0.1),
        {"query": QUERY, "value": QUERY},
        call_kwargs=dict(use_causal_mask=True),
        expected_output_shape=(2, 5, 6),
    )


def _pair(**kwargs):
    theirs = keras.layers.MultiHeadAttention(**kwargs)
    ours = MultiHeadAttention(**kwargs)
    return theirs, ours


CONFIGS = [
    dict(num_heads=4, key_dim=8),
    dict(num_heads=2, key_dim=8, value_dim=6, output_shape=10, use_bias=False),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_same_weights_same_outputs_as_keras(config):
    theirs, ours = _pair(**config)
    theirs(QUERY, VALUE)
    ours(QUERY, VALUE)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    ours.set_weights(theirs.get_weights())
    attention_mask = RNG.random((2, 5, 7)) > 0.3
    attention_mask[..., 0] = True  # no fully masked rows: Keras differs there by design
    value_mask = np.ones((2, 7), bool)
    value_mask[0, 4:] = False
    query_mask = np.ones((2, 5), bool)
    query_mask[1, 3:] = False
    for kwargs in (
        {},
        {"attention_mask": attention_mask},
        {"value_mask": value_mask},
        {"value_mask": value_mask, "query_mask": query_mask, "attention_mask": attention_mask},
    ):
        # Rows masked by query_mask see no key: we give zeros, Keras the mean of the values.
        rows = query_mask if "query_mask" in kwargs else np.ones((2, 5), bool)
        got = np.asarray(ours(QUERY, VALUE, **kwargs))[rows]
        np.testing.assert_allclose(got, np.asarray(theirs(QUERY, VALUE, **kwargs))[rows], atol=1e-5)
    # Scores too.
    _, their_scores = theirs(QUERY, VALUE, return_attention_scores=True)
    _, our_scores = ours(QUERY, VALUE, return_attention_scores=True)
    np.testing.assert_allclose(our_scores, their_scores, atol=1e-6)


@pytest.mark.parametrize("config", CONFIGS)
def test_self_attention_causal_matches_keras(config):
    theirs, ours = _pair(**config)
    theirs(QUERY, QUERY)
    ours(QUERY, QUERY)
    ours.set_weights(theirs.get_weights())
    padding = np.ones((2, 5), bool)
    padding[0, 3:] = False
    for kwargs in ({"use_causal_mask": True}, {"use_causal_mask": True, "value_mask": padding}):
        np.testing.assert_allclose(ours(QUERY, QUERY, **kwargs), theirs(QUERY, QUERY, **kwargs), atol=1e-5)


def test_implicit_masks_equal_explicit_masks():
    tokens = np.array([[3, 4, 5, 0, 0], [6, 7, 0, 0, 0]])
    embedding = keras.layers.Embedding(10, 8, mask_zero=True)
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    inputs = keras.Input((5,), dtype="int32")
    x = embedding(inputs)
    implicit = keras.Model(inputs, layer(x, x))(tokens)
    embedded = embedding(tokens)
    padding = tokens != 0
    explicit = layer(
        keras.ops.convert_to_numpy(embedded), keras.ops.convert_to_numpy(embedded),
        query_mask=padding, value_mask=padding,
    )
    np.testing.assert_allclose(implicit, explicit, atol=1e-6)


def test_implicit_mask_is_not_removed_from_the_callers_tensor():
    embedded = keras.layers.Embedding(10, 8, mask_zero=True)(np.array([[1, 2, 0]]))
    MultiHeadAttention(num_heads=2, key_dim=4)(embedded, embedded)
    assert getattr(embedded, "_keras_mask", None) is not None


def test_grouped_query_attention_equals_repeated_heads():
    gqa = MultiHeadAttention(num_heads=4, key_dim=4, num_key_value_heads=2)
    full = MultiHeadAttention(num_heads=4, key_dim=4)
    gqa(QUERY, VALUE)
    full(QUERY, VALUE)
    q_kernel, q_bias, k_kernel, k_bias, v_kernel, v_bias, o_kernel, o_bias = gqa.get_weights()
    repeat = lambda w: np.repeat(w, 2, axis=-2)  # noqa: E731  (heads axis)
    full.set_weights([
        q_kernel, q_bias, repeat(k_kernel), np.repeat(k_bias, 2, axis=0),
        repeat(v_kernel), np.repeat(v_bias, 2, axis=0), o_kernel, o_bias,
    ])
    np.testing.assert_allclose(gqa(QUERY, VALUE), full(QUERY, VALUE), atol=1e-5)


def test_chunked_equals_dense():
    dense = MultiHeadAttention(num_heads=2, key_dim=4)
    chunked = MultiHeadAttention(num_heads=2, key_dim=4, chunk_size=3)
    dense(QUERY, QUERY)
    chunked(QUERY, QUERY)
    chunked.set_weights(dense.get_weights())
    padding = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    for kwargs in ({"use_causal_mask": True}, {"value_mask": padding}):
        np.testing.assert_allclose(chunked(QUERY, QUERY, **kwargs), dense(QUERY, QUERY, **kwargs), atol=1e-5)


def test_cached_step_by_step_equals_full_pass():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    full = layer(QUERY, QUERY, use_causal_mask=True)
    cache = np.zeros((2, 2, 5, 2, 4), "float32")
    steps = []
    for index in range(5):
        out, cache = layer(
            QUERY[:, index : index + 1], QUERY[:, index : index + 1],
            use_causal_mask=True, cache=cache, cache_update_index=index,
        )
        steps.append(out)
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)


def test_fully_masked_query_returns_output_bias_only():
    layer = MultiHeadAttention(num_heads=2, key_dim=4, bias_initializer="ones")
    mask = np.ones((2, 5, 7), bool)
    mask[0, 1] = False
    out = np.asarray(layer(QUERY, VALUE, attention_mask=mask))
    # Attention output is zero, so only the output projection's bias remains.
    np.testing.assert_allclose(out[0, 1], np.ones(16), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num_heads=0, key_dim=4), "num_heads"),
        (dict(num_heads=4, key_dim=4, num_key_value_heads=3), "num_key_value_heads"),
        (dict(num_heads=2, key_dim=4, dropout=1.5), "dropout"),
        (dict(num_heads=2, key_dim=4, chunk_size=-1), "chunk_size"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MultiHeadAttention(**kwargs)


def test_bad_shapes_name_the_input():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    with pytest.raises(ValueError, match="query"):
        layer(np.zeros((2, 5), "float32"), VALUE)
    with pytest.raises(ValueError, match="key"):
        MultiHeadAttention(num_heads=2, key_dim=4)(QUERY, VALUE, key=np.zeros((2, 3, 12), "float32"))
    with pytest.raises(ValueError, match="attention_mask|mask"):
        MultiHeadAttention(num_heads=2, key_dim=4)(QUERY, VALUE, attention_mask=np.ones((2, 5, 3), bool))


@pytest.mark.parametrize("policy", ["float32", "mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("chunk_size", [None, 2])
def test_fully_masked_rows_are_zero_with_finite_gradients_in_every_policy(policy, chunk_size):
    import tensorflow as tf

    layer = MultiHeadAttention(num_heads=2, key_dim=4, use_bias=False, chunk_size=chunk_size, dtype=policy)
    query = tf.Variable(QUERY)  # (large logits in half precision: see the op tests)
    mask = np.ones((2, 5, 5), bool)
    mask[0, 2] = False
    mask[1] = False
    with tf.GradientTape() as tape:
        out = layer(query, query, attention_mask=mask, use_causal_mask=True)
        loss = tf.reduce_sum(tf.cast(out, "float32") ** 2)
    grads = tape.gradient(loss, [query] + layer.trainable_weights)
    out = np.asarray(tf.cast(out, "float32"))
    assert np.all(out[0, 2] == 0.0) and np.all(out[1] == 0.0)
    assert np.all(np.isfinite(out))
    for grad in grads:
        assert np.all(np.isfinite(np.asarray(tf.cast(grad, "float32"))))


@pytest.mark.parametrize("implementation", ["fused", "blocked"])
def test_forced_implementation_passes_the_generic_checks_and_matches_keras(implementation):
    run_layer_checks(
        MultiHeadAttention,
        dict(num_heads=2, key_dim=4, implementation=implementation),
        {"query": QUERY, "value": QUERY},
        call_kwargs=dict(use_causal_mask=True),
        expected_output_shape=(2, 5, 16),
    )
    theirs = keras.layers.MultiHeadAttention(num_heads=2, key_dim=8)
    ours = MultiHeadAttention(num_heads=2, key_dim=8, implementation=implementation)
    theirs(QUERY, VALUE)
    ours(QUERY, VALUE)
    ours.set_weights(theirs.get_weights())
    value_mask = np.ones((2, 7), bool)
    value_mask[0, 4:] = False
    for kwargs in ({}, {"value_mask": value_mask}, {"use_causal_mask": True}):
        np.testing.assert_allclose(ours(QUERY, VALUE, **kwargs), theirs(QUERY, VALUE, **kwargs), atol=1e-5)
    with pytest.raises(ValueError, match="Received: implementation='flash'"):
        MultiHeadAttention(num_heads=2, key_dim=4, implementation="flash")


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_fused_fully_masked_rows_are_zero_with_finite_gradients(policy):
    import tensorflow as tf

    layer = MultiHeadAttention(num_heads=2, key_dim=4, use_bias=False, implementation="fused", dtype=policy)
    query = tf.Variable(QUERY)
    mask = np.ones((2, 5, 5), bool)
    mask[0, 2] = False
    mask[1] = False
    with tf.GradientTape() as tape:
        out = layer(query, query, attention_mask=mask, use_causal_mask=True)
        loss = tf.reduce_sum(tf.cast(out, "float32") ** 2)
    grads = tape.gradient(loss, [query] + layer.trainable_weights)
    out = np.asarray(tf.cast(out, "float32"))
    assert np.all(out[0, 2] == 0.0) and np.all(out[1] == 0.0)
    for grad in grads:
        assert np.all(np.isfinite(np.asarray(tf.cast(grad, "float32"))))
