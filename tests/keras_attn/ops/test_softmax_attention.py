"""keras_attn.ops.softmax_attention: the hand-written gradient equals automatic differentiation."""

import numpy as np
import pytest
import tensorflow as tf

from keras_attn.ops.softmax_attention import softmax_attention

MASKED = -1e9


def autodiff_attention(q, k, v, mask=None, bias=None, rows_may_be_empty=True, dropout_scale=None):
    """The same forward pass, differentiated by TensorFlow."""
    logits = tf.einsum("bhqd,bhkd->bhqk", q, k)
    if bias is not None:
        logits = logits + bias
    if mask is not None:
        logits = tf.where(mask, logits, MASKED)
    weights = tf.nn.softmax(logits, -1)
    if mask is not None and rows_may_be_empty:
        weights = tf.where(mask, weights, 0.0)
    if dropout_scale is not None:
        weights = weights * dropout_scale
    return tf.einsum("bhqk,bhkd->bhqd", tf.cast(weights, v.dtype), v)


def _case(seed, bias_shape=None, with_mask=True, empty_row=True, dropout=False, v_dtype="float32"):
    rng = np.random.default_rng(seed)
    b, h, tq, tk, d = 2, 3, 5, 7, 4
    q = tf.constant(rng.normal(size=(b, h, tq, d)).astype("float32"))
    k = tf.constant(rng.normal(size=(b, h, tk, d)).astype("float32"))
    v = tf.constant(rng.normal(size=(b, h, tk, d)).astype(v_dtype))
    bias = None if bias_shape is None else tf.constant(rng.normal(size=bias_shape).astype("float32"))
    mask = None
    if with_mask:
        mask = rng.random((b, 1, tq, tk)) > 0.4
        if empty_row:
            mask[0, 0, 2] = False  # a query that may attend no key
        mask = tf.constant(mask)
    scale = None
    if dropout:
        scale = tf.constant(((rng.random((b, h, tq, tk)) > 0.3) / 0.7).astype("float32"))
    return q, k, v, bias, mask, scale


def _grads(fn, q, k, v, bias, d_out):
    watched = [q, k, v] + ([bias] if bias is not None else [])
    with tf.GradientTape() as tape:
        tape.watch(watched)
        out = fn(q, k, v, bias)
        loss = tf.reduce_sum(tf.cast(out, "float32") * d_out)
    return out, tape.gradient(loss, watched)


@pytest.mark.parametrize(
    "bias_shape,with_mask,empty_row,dropout",
    [
        (None, False, False, False),
        ((2, 3, 5, 7), True, True, False),
        ((1, 3, 1, 7), True, False, True),
        ((1, 1, 5, 1), False, False, True),
        ((2, 1, 1, 1), True, True, True),
    ],
)
def test_gradients_match_automatic_differentiation(bias_shape, with_mask, empty_row, dropout):
    q, k, v, bias, mask, scale = _case(0, bias_shape, with_mask, empty_row, dropout)
    d_out = tf.constant(np.random.default_rng(1).normal(size=(2, 3, 5, 4)).astype("float32"))
    out, grads = _grads(
        lambda q, k, v, bias: softmax_attention(
            q, k, v, mask=mask, bias=bias, masked_logit=MASKED, dropout_scale=scale
        ),
        q, k, v, bias, d_out,
    )
    want, want_grads = _grads(
        lambda q, k, v, bias: autodiff_attention(q, k, v, mask, bias, dropout_scale=scale), q, k, v, bias, d_out
    )
    np.testing.assert_allclose(out, want, atol=1e-6)
    for got, expected in zip(grads, want_grads):
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, atol=1e-5)
    if with_mask and empty_row:
        np.testing.assert_array_equal(out[0, :, 2], 0.0)  # a row with no key gives zeros


def test_float16_values_and_xla():
    q, k, v, bias, mask, _ = _case(2, (1, 3, 1, 7), v_dtype="float16")
    d_out = tf.constant(np.random.default_rng(3).normal(size=(2, 3, 5, 4)).astype("float32"))

    @tf.function(jit_compile=True)
    def compiled(q, k, v, bias):
        return _grads(
            lambda q, k, v, bias: softmax_attention(q, k, v, mask=mask, bias=bias, masked_logit=MASKED),
            q, k, v, bias, d_out,
        )

    out, grads = compiled(q, k, v, bias)
    assert out.dtype == tf.float16 and grads[2].dtype == tf.float16
    want, want_grads = _grads(
        lambda q, k, v, bias: autodiff_attention(q, k, v, mask, bias), q, k, tf.cast(v, "float32"), bias, d_out
    )
    np.testing.assert_allclose(tf.cast(out, "float32"), want, atol=2e-3)
    for got, expected in zip(grads, want_grads):
        assert np.all(np.isfinite(tf.cast(got, "float32")))
        np.testing.assert_allclose(tf.cast(got, "float32"), expected, rtol=1e-2, atol=1e-2)
