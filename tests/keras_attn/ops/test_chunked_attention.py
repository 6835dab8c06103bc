"""Attention dropout on the chunked path: the hashed mask, rebuilt in the backward pass."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_attn.ops import scaled_dot_product_attention as sdpa
from keras_attn.ops.chunked_attention import chunked_attention
from keras_attn.ops.hashed_dropout import keep_mask

B, TQ, TK, H, D, CHUNK, RATE = 2, 10, 13, 2, 4, 4, 0.3


def _reference(q, k, v, seed, is_causal):
    """Dense attention with the same hashed mask, differentiated by TensorFlow."""
    q_pad, k_pad = -(-TQ // CHUNK) * CHUNK, -(-TK // CHUNK) * CHUNK
    logits = tf.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(D)
    if is_causal:
        allowed = np.arange(TK)[None, :] <= np.arange(TQ)[:, None] + (TK - TQ)
        logits = tf.where(allowed, logits, -1e9)
    weights = tf.nn.softmax(logits, axis=-1)
    keep = keep_mask(seed, B, H, np.arange(TQ), np.arange(TK), q_pad, k_pad, RATE)
    weights = tf.where(keep, weights / (1 - RATE), 0.0)
    return tf.einsum("bhqk,bkhd->bqhd", weights, v)


@pytest.mark.parametrize("is_causal", [False, True])
def test_dropout_equals_dense_with_the_same_mask_outputs_and_gradients(is_causal):
    rng = np.random.default_rng(0)
    variables = [tf.Variable(rng.normal(size=(B, t, H, D)).astype("float32")) for t in (TQ, TK, TK)]
    seed = keras.ops.convert_to_tensor(1234, "uint32")
    upstream = rng.normal(size=(B, TQ, H, D)).astype("float32")

    def run(fn):
        with tf.GradientTape() as tape:
            out = fn(*variables)
            loss = tf.reduce_sum(out * upstream)
        return out, tape.gradient(loss, variables)

    chunked, chunked_grads = run(
        lambda q, k, v: chunked_attention(
            q, k, v, mask=None, bias=None, is_causal=is_causal, scale=1 / np.sqrt(D),
            chunk_size=CHUNK, dropout_rate=RATE, dropout_seed=seed,
        )
    )
    reference, reference_grads = run(lambda q, k, v: _reference(q, k, v, seed, is_causal))
    np.testing.assert_allclose(chunked, reference, atol=1e-5)
    for got, want in zip(chunked_grads, reference_grads):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_dropout_drops_the_expected_fraction_of_weights():
    # With identity values the output rows are the (dropped, rescaled) weights.
    q = np.random.default_rng(1).normal(size=(1, 64, 1, 64)).astype("float32")
    value = np.eye(64, dtype="float32")[None, :, None, :]
    plain = np.asarray(sdpa(q, q, value, chunk_size=16))
    dropped = np.asarray(sdpa(q, q, value, chunk_size=16, dropout_rate=RATE, training=True, seed=3))
    zeroed = (dropped == 0) & (plain > 0)
    assert abs(zeroed.mean() - RATE) < 0.03
    kept = dropped != 0
    np.testing.assert_allclose(dropped[kept], plain[kept] / (1 - RATE), rtol=1e-5)


def test_seeds_and_inference():
    q = np.random.default_rng(2).normal(size=(1, 9, 2, 4)).astype("float32")
    plain = np.asarray(sdpa(q, q, q, chunk_size=4))
    np.testing.assert_allclose(sdpa(q, q, q, chunk_size=4, dropout_rate=0.5, training=False), plain)
    first = np.asarray(sdpa(q, q, q, chunk_size=4, dropout_rate=0.5, training=True, seed=5))
    again = np.asarray(sdpa(q, q, q, chunk_size=4, dropout_rate=0.5, training=True, seed=5))
    np.testing.assert_array_equal(first, again)
    generator = keras.random.SeedGenerator(5)
    one = np.asarray(sdpa(q, q, q, chunk_size=4, dropout_rate=0.5, training=True, seed=generator))
    two = np.asarray(sdpa(q, q, q, chunk_size=4, dropout_rate=0.5, training=True, seed=generator))
    assert not np.allclose(one, plain) and not np.allclose(one, two)


def test_dropout_compiles_with_xla():
    q = tf.Variable(np.random.default_rng(3).normal(size=(2, 12, 2, 4)).astype("float32"))

    @tf.function(jit_compile=True)
    def step():
        with tf.GradientTape() as tape:
            out = sdpa(q, q, q, is_causal=True, chunk_size=4, dropout_rate=0.2, training=True, seed=7)
            loss = tf.reduce_sum(out)
        return out, tape.gradient(loss, q)

    out, grad = step()
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(grad))
