"""Each forced kernel of scaled_dot_product_attention ("fused": keras'
dot_product_attention, "blocked": the library's CPU kernels) against the dense
path that returns the weights (automatic differentiation): outputs and
gradients, masks, causal alignment, empty rows, grouped-query heads, half
precision, eagerly and under `jit_compile=True` (TensorFlow backend; the JAX
backend: test_routes_on_jax.py)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_attn.ops import scaled_dot_product_attention as sdpa

CASES = {
    "causal": dict(tq=6, tk=6, kv_heads=4, causal=True, mask=False, bias=False),
    "causal, fewer queries, GQA, mask": dict(tq=3, tk=7, kv_heads=2, causal=True, mask=True, bias=False),
    "causal, more queries than keys, MQA": dict(tq=7, tk=4, kv_heads=1, causal=True, mask=False, bias=False),
    "mask with empty rows, bias": dict(tq=5, tk=9, kv_heads=4, causal=False, mask=True, bias=True),
    "causal query blocks": dict(tq=160, tk=160, kv_heads=2, causal=True, mask=True, bias=False),
}


def _tensors(case, dtype="float32"):
    rng = np.random.default_rng(0)
    tq, tk, kv = case["tq"], case["tk"], case["kv_heads"]
    q = rng.normal(size=(2, tq, 4, 8))
    k, v = rng.normal(size=(2, tk, kv, 8)), rng.normal(size=(2, tk, kv, 8))
    tensors = [tf.constant(x, dtype) for x in (q, k, v)]
    mask = None
    if case["mask"]:
        mask = rng.random((2, 1, tq, tk)) > 0.3
        mask[0, :, 1] = False  # query 1 of example 0 sees no key
    if case["bias"]:
        tensors.append(tf.constant(rng.normal(size=(1, 4, 1, tk)), "float32"))
    return tensors, mask


def _run(tensors, mask, case, jit_compile, **kwargs):
    weights = np.random.default_rng(1).normal(size=(8,)).astype("float32")

    def step(*tensors):
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            out = sdpa(*tensors[:3], bias=tensors[3] if len(tensors) == 4 else None, mask=mask,
                       is_causal=case["causal"], **kwargs)
            out = out[0] if kwargs.get("return_weights") else out
            loss = tf.reduce_sum(tf.cast(out, "float32") * weights)
        return out, tape.gradient(loss, tensors)

    out, grads = tf.function(step, jit_compile=jit_compile)(*tensors) if jit_compile is not None else step(*tensors)
    return np.asarray(tf.cast(out, "float32")), [np.asarray(tf.cast(g, "float32")) for g in grads]


def _empty_rows(case):
    if case["causal"] and case["tq"] > case["tk"]:
        return (slice(None), slice(0, case["tq"] - case["tk"]))  # queries before the first key
    if case["mask"]:
        return (0, 1)
    return None


@pytest.mark.parametrize("jit_compile", [None, True], ids=["eager", "xla"])
@pytest.mark.parametrize("implementation", ["fused", "blocked"])
@pytest.mark.parametrize("name", list(CASES))
def test_forced_kernel_matches_the_dense_path(name, implementation, jit_compile):
    case = CASES[name]
    tensors, mask = _tensors(case)
    want, want_grads = _run(tensors, mask, case, None, return_weights=True)
    got, grads = _run(tensors, mask, case, jit_compile, implementation=implementation)
    np.testing.assert_allclose(got, want, atol=1e-5)
    for grad, want_grad in zip(grads, want_grads):
        np.testing.assert_allclose(grad, want_grad, atol=1e-4)
    rows = _empty_rows(case)
    if rows is not None:
        assert np.all(got[rows] == 0.0)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("implementation", ["fused", "blocked"])
def test_half_precision_under_xla(dtype, implementation):
    case = CASES["causal, fewer queries, GQA, mask"] | dict(tq=9)  # 2 queries before the first key
    tensors, mask = _tensors(case, dtype)
    reference = [tf.cast(tf.cast(x, dtype), "float32") for x in tensors]
    want, want_grads = _run(reference, mask, case, None, return_weights=True)
    got, grads = _run(tensors, mask, case, True, implementation=implementation)
    assert np.all(got[:, :2] == 0.0) and np.all(got[0, 1] == 0.0)
    np.testing.assert_allclose(got, want, atol=0.05)
    for grad, want_grad in zip(grads, want_grads):
        assert np.all(np.isfinite(grad))
        np.testing.assert_allclose(grad, want_grad, atol=0.1)


@pytest.mark.parametrize("chunk_size", [None, 4])
@pytest.mark.parametrize("implementation", ["fused", "blocked"])
def test_bucketed_bias_through_each_kernel(implementation, chunk_size):
    from keras import ops

    from keras_attn.ops import BucketedBias

    rng = np.random.default_rng(2)
    q, k, v = (tf.Variable(rng.normal(size=(2, 6, 4, 8)).astype("float32")) for _ in range(3))
    table = tf.Variable(rng.normal(size=(8, 4)).astype("float32"))

    def run(**kwargs):
        with tf.GradientTape() as tape:
            bias = BucketedBias(table, lambda d: ops.clip(d + 4, 0, 7))
            out = sdpa(q, k, v, bias=bias, is_causal=True, **kwargs)
            out = out[0] if kwargs.get("return_weights") else out
            loss = tf.reduce_sum(out * np.linspace(-1, 1, 8, dtype="float32"))
        return out, [tf.convert_to_tensor(g) for g in tape.gradient(loss, [q, k, v, table])]

    want, want_grads = run(return_weights=True)
    got, grads = run(implementation=implementation, chunk_size=chunk_size)
    np.testing.assert_allclose(got, want, atol=1e-5)
    for grad, want_grad in zip(grads, want_grads):
        np.testing.assert_allclose(grad, want_grad, atol=1e-4)
