"""keras_attn.ops.scaled_dot_product_attention: numbers, masks, dtypes, chunking."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_attn.ops import scaled_dot_product_attention as sdpa


def reference(q, k, v, mask=None, bias=None, causal=False, scale=None):
    """Plain numpy attention, float64; fully masked rows give zeros."""
    q, k, v = (np.asarray(x, "float64") for x in (q, k, v))
    groups = q.shape[2] // k.shape[2]
    k, v = np.repeat(k, groups, axis=2), np.repeat(v, groups, axis=2)
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    logits = np.einsum("bqhd,bkhd->bhqk", q, k) * scale
    if bias is not None:
        logits = logits + bias
    allowed = np.ones(logits.shape, bool)
    if mask is not None:
        allowed &= np.broadcast_to(mask, logits.shape)
    if causal:
        tq, tk = q.shape[1], k.shape[1]
        allowed &= np.arange(tk)[None, :] <= np.arange(tq)[:, None] + (tk - tq)
    logits = np.where(allowed, logits, -np.inf)
    peak = np.max(np.where(allowed, logits, -1e300), -1, keepdims=True)
    weights = np.where(allowed, np.exp(logits - peak), 0.0)
    total = weights.sum(-1, keepdims=True)
    weights = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
    return np.einsum("bhqk,bkhd->bqhd", weights, v), weights


def _inputs(seed=0, batch=2, tq=7, tk=9, heads=4, kv_heads=4, dim=8):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(batch, tq, heads, dim)).astype("float32")
    k = rng.normal(size=(batch, tk, kv_heads, dim)).astype("float32")
    v = rng.normal(size=(batch, tk, kv_heads, dim)).astype("float32")
    return q, k, v


@pytest.mark.parametrize("kv_heads", [4, 2, 1])
@pytest.mark.parametrize("causal", [False, True])
def test_dense_matches_reference(kv_heads, causal):
    q, k, v = _inputs(kv_heads=kv_heads, tq=5, tk=9)
    rng = np.random.default_rng(1)
    mask = rng.random((2, 1, 5, 9)) > 0.3
    bias = rng.normal(size=(1, 4, 5, 9)).astype("float32")
    out, weights = sdpa(q, k, v, mask=mask, bias=bias, is_causal=causal, return_weights=True)
    want, want_weights = reference(q, k, v, mask, bias, causal)
    np.testing.assert_allclose(out, want, atol=1e-5)
    np.testing.assert_allclose(weights, want_weights, atol=1e-6)


def test_matches_keras_dot_product_attention():
    q, k, v = _inputs(tq=6, tk=6)
    mask = np.tril(np.ones((6, 6), bool))[None, None]
    ours = sdpa(q, k, v, mask=mask, scale=0.3)
    theirs = keras.ops.dot_product_attention(q, k, v, mask=mask, scale=0.3)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_causal_with_fewer_queries_aligns_to_end():
    # The last query of a causal 9x9 attention equals one query over 9 keys.
    q, k, v = _inputs(tq=9, tk=9)
    full = sdpa(q, k, v, is_causal=True)
    last = sdpa(q[:, -1:], k, v, is_causal=True)
    np.testing.assert_allclose(last, np.asarray(full)[:, -1:], atol=1e-6)


DTYPES = ["float32", "float16", "bfloat16"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("chunk_size", [None, 4])
def test_fully_masked_rows_are_zero_with_finite_gradients(dtype, chunk_size):
    q, k, v = _inputs(tq=6, tk=10)
    mask = np.ones((2, 1, 6, 10), bool)
    mask[0, :, 2, :] = False  # query 2 of example 0 sees nothing
    mask[1] = False  # example 1 sees nothing at all
    q, k, v = (tf.Variable(tf.cast(x, dtype)) for x in (q, k, v))
    with tf.GradientTape() as tape:
        out = sdpa(q, k, v, mask=mask, chunk_size=chunk_size)
        loss = tf.reduce_sum(tf.cast(out, "float32") ** 2)
    grads = tape.gradient(loss, [q, k, v])
    out = np.asarray(tf.cast(out, "float32"))
    assert out.dtype == np.float32 and str(tf.cast(q, dtype).dtype.name) == dtype
    assert np.all(out[0, 2] == 0.0) and np.all(out[1] == 0.0)
    assert np.all(np.isfinite(out))
    for grad in grads:
        assert np.all(np.isfinite(np.asarray(tf.cast(grad, "float32"))))
    # Fully masked rows contribute no gradient to their query.
    np.testing.assert_array_equal(np.asarray(tf.cast(grads[0], "float32"))[1], 0.0)
    if chunk_size is None:
        _, weights = sdpa(q, k, v, mask=mask, return_weights=True)
        assert np.all(np.asarray(tf.cast(weights, "float32"))[1] == 0.0)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("chunk_size", [None, 4])
def test_half_precision_logits_run_in_float32(dtype, chunk_size):
    # Logits of ~1e5 overflow float16 if computed in it; in float32 they are fine.
    q, k, v = _inputs(tq=5, tk=7, dim=16)
    q = q * 60.0
    k = k * 60.0
    mask = np.tril(np.ones((5, 7), bool), 2)
    out = sdpa(tf.cast(q, dtype), tf.cast(k, dtype), tf.cast(v, dtype), mask=mask, chunk_size=chunk_size)
    assert out.dtype.name == dtype
    want, _ = reference(
        np.asarray(tf.cast(tf.cast(q, dtype), "float32")),
        np.asarray(tf.cast(tf.cast(k, dtype), "float32")),
        np.asarray(tf.cast(tf.cast(v, dtype), "float32")),
        mask,
    )
    np.testing.assert_allclose(np.asarray(tf.cast(out, "float32")), want, atol=0.05)


CHUNK_CASES = [
    dict(tq=13, tk=13, causal=True, mask=False, bias=False, kv_heads=4, chunk=4),
    dict(tq=13, tk=21, causal=False, mask=True, bias=True, kv_heads=2, chunk=5),
    dict(tq=9, tk=17, causal=True, mask=True, bias=False, kv_heads=1, chunk=4),
    dict(tq=16, tk=16, causal=False, mask=False, bias=True, kv_heads=4, chunk=8),
]


@pytest.mark.parametrize("case", CHUNK_CASES)
def test_chunked_equals_dense_outputs_and_gradients(case):
    q, k, v = _inputs(tq=case["tq"], tk=case["tk"], kv_heads=case["kv_heads"])
    rng = np.random.default_rng(2)
    mask = (rng.random((2, 1, case["tq"], case["tk"])) > 0.2) if case["mask"] else None
    bias = rng.normal(size=(1, 4, 1, case["tk"])).astype("float32") if case["bias"] else None
    variables = [tf.Variable(x) for x in (q, k, v)] + ([tf.Variable(bias)] if case["bias"] else [])
    weights = rng.normal(size=(8,)).astype("float32")

    def run(chunk_size):
        with tf.GradientTape() as tape:
            out = sdpa(
                *variables[:3], mask=mask, bias=variables[3] if case["bias"] else None,
                is_causal=case["causal"], chunk_size=chunk_size,
            )
            loss = tf.reduce_sum(out * weights)
        return out, tape.gradient(loss, variables)

    dense, dense_grads = run(None)
    chunked, chunked_grads = run(case["chunk"])
    np.testing.assert_allclose(chunked, dense, atol=1e-5)
    for got, want in zip(chunked_grads, dense_grads):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_chunked_compiles_with_xla():
    q, k, v = _inputs(tq=12, tk=12)
    variables = [tf.Variable(x) for x in (q, k, v)]

    @tf.function(jit_compile=True)
    def step(chunk):
        with tf.GradientTape() as tape:
            out = sdpa(*variables, is_causal=True, chunk_size=chunk)
            loss = tf.reduce_sum(out)
        return out, tape.gradient(loss, variables)

    out, grads = step(4)
    with tf.GradientTape() as tape:
        want = sdpa(*variables, is_causal=True)
        loss = tf.reduce_sum(want)
    want_grads = tape.gradient(loss, variables)
    np.testing.assert_allclose(out, want, atol=1e-5)
    for got, expected in zip(grads, want_grads):
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_dropout_only_in_training():
    q, k, v = _inputs()
    plain = sdpa(q, k, v)
    np.testing.assert_allclose(sdpa(q, k, v, dropout_rate=0.5, training=False), plain)
    dropped = sdpa(q, k, v, dropout_rate=0.5, training=True, seed=keras.random.SeedGenerator(3))
    assert not np.allclose(dropped, plain)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(query=np.zeros((2, 3, 4)), key=np.zeros((2, 3, 2, 4)), value=np.zeros((2, 3, 2, 4))), "rank 4"),
        (dict(query=np.zeros((2, 3, 3, 4)), key=np.zeros((2, 3, 2, 4)), value=np.zeros((2, 3, 2, 4))), "multiple"),
        (dict(query=np.zeros((2, 3, 2, 4)), key=np.zeros((2, 3, 2, 5)), value=np.zeros((2, 3, 2, 4))), "head_dim"),
        (dict(query=np.zeros((2, 3, 2, 4)), key=np.zeros((2, 3, 2, 4)), value=np.zeros((2, 5, 2, 4))), "same length"),
        (dict(query=np.zeros((2, 3, 2, 4)), key=np.zeros((2, 3, 2, 4)), value=np.zeros((2, 3, 2, 4)),
              mask=np.ones((2, 1, 3, 4), bool)), "mask"),
        (dict(query=np.zeros((2, 3, 2, 4)), key=np.zeros((2, 3, 2, 4)), value=np.zeros((2, 3, 2, 4)),
              chunk_size=0), "chunk_size"),
    ],
)
def test_bad_input_names_the_problem(kwargs, message):
    kwargs = {name: (value.astype("float32") if isinstance(value, np.ndarray) and value.dtype != bool else value)
              for name, value in kwargs.items()}
    with pytest.raises(ValueError, match=message) as error:
        sdpa(**kwargs)
    assert "Received" in str(error.value)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 1000), length=st.integers(2, 8))
def test_self_attention_is_permutation_equivariant(seed, length):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(1, length, 2, 4)).astype("float32")
    order = rng.permutation(length)
    out = np.asarray(sdpa(x, x, x))
    permuted = np.asarray(sdpa(x[:, order], x[:, order], x[:, order]))
    np.testing.assert_allclose(permuted, out[:, order], atol=1e-5)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 1000), extra=st.integers(1, 6), chunk=st.sampled_from([None, 3]))
def test_appending_masked_keys_changes_nothing(seed, extra, chunk):
    q, k, v = _inputs(seed=seed, tq=4, tk=5)
    rng = np.random.default_rng(seed + 1)
    k2 = np.concatenate([k, rng.normal(size=(2, extra, 4, 8)).astype("float32") * 100], 1)
    v2 = np.concatenate([v, rng.normal(size=(2, extra, 4, 8)).astype("float32") * 100], 1)
    mask = np.concatenate([np.ones(5, bool), np.zeros(extra, bool)])[None, None, None]
    np.testing.assert_allclose(sdpa(q, k2, v2, mask=mask, chunk_size=chunk), sdpa(q, k, v), atol=1e-5)


@pytest.mark.parametrize(
    "tq,tk,with_mask,causal",
    [(300, 300, False, True), (400, 533, True, True), (260, 260, True, True), (2100, 48, True, False)],
)
def test_query_blocks_match_reference_with_gradients(tq, tk, with_mask, causal):
    # Long static lengths run in query blocks; causal blocks skip the keys above the diagonal.
    q, k, v = _inputs(seed=3, batch=1, tq=tq, tk=tk, heads=2, kv_heads=1, dim=4)
    rng = np.random.default_rng(4)
    mask = rng.random((1, 1, tq, tk)) > 0.3 if with_mask else None
    bias = rng.normal(size=(1, 2, 1, tk)).astype("float32") if with_mask else None
    expected, weights = reference(q, k, v, mask=mask, bias=bias, causal=causal)
    tensors = [tf.constant(x) for x in (q, k, v)]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        out = sdpa(*tensors, mask=mask, bias=bias, is_causal=causal)
        loss = tf.reduce_sum(out * out)
    np.testing.assert_allclose(out, expected, atol=1e-5)
    grads = tape.gradient(loss, tensors)
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        dense, _ = sdpa(*tensors, mask=mask, bias=bias, is_causal=causal, return_weights=True)
        loss = tf.reduce_sum(dense * dense)
    for got, want in zip(grads, tape.gradient(loss, tensors)):
        np.testing.assert_allclose(got, want, atol=1e-4)


@pytest.mark.parametrize("tq,causal", [(6, False), (300, True), (2060, False)])
def test_dropout_draw_and_gradients_match_the_weights_path(tq, causal):
    # The fast path (hand-written gradient, query blocks from 300 causal /
    # 2060 non-causal queries) draws the same dropout mask as the path that
    # returns the weights, and its gradients agree.
    q, k, v = _inputs(seed=5, batch=1, tq=tq, tk=tq if causal else 16, heads=2, kv_heads=2, dim=4)
    tensors = [tf.constant(x) for x in (q, k, v)]
    results = []
    for return_weights in (False, True):
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            out = sdpa(*tensors, is_causal=causal, dropout_rate=0.3, training=True, seed=7,
                       return_weights=return_weights)
            out = out[0] if return_weights else out
            loss = tf.reduce_sum(out * out)
        results.append((out, tape.gradient(loss, tensors)))
    (fast, fast_grads), (slow, slow_grads) = results
    if tq <= 256 or not causal and tq < 2048:  # one draw for the whole matrix on both paths
        np.testing.assert_allclose(fast, slow, atol=1e-5)
        for got, want in zip(fast_grads, slow_grads):
            np.testing.assert_allclose(got, want, atol=1e-4)
    else:  # one draw per query block: a different mask, same statistics
        assert np.all(np.isfinite(fast)) and not np.allclose(fast, sdpa(*tensors, is_causal=causal))


def test_causal_blocks_under_xla_match_reference_with_gradients():
    # Under XLA the causal queries run in blocks of XLA_QUERY_BLOCK_SIZE (64): 3 blocks here.
    q, k, v = _inputs(seed=8, batch=1, tq=150, tk=150, heads=2, kv_heads=2, dim=4)
    tensors = [tf.constant(x) for x in (q, k, v)]

    def loss_and_grads(*tensors):
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            out = sdpa(*tensors, is_causal=True)
            loss = tf.reduce_sum(out * out)
        return out, tape.gradient(loss, tensors)

    out, grads = tf.function(loss_and_grads, jit_compile=True)(*tensors)
    expected, _ = reference(q, k, v, causal=True)
    np.testing.assert_allclose(out, expected, atol=1e-5)
    for got, want in zip(grads, loss_and_grads(*tensors)[1]):
        np.testing.assert_allclose(got, want, atol=1e-4)
