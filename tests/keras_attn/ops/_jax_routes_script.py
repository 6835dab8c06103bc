"""Run by test_routes_on_jax.py in a fresh process with KERAS_BACKEND=jax.

Each forced kernel ("fused": keras' dot_product_attention, here JAX's XLA one
pass; "blocked": the library's CPU kernels) against the dense path that
returns the weights, under jax.jit: outputs and gradients with masks, causal
alignment, empty rows, grouped-query heads, half precision, a bias. Then: the CPU
route is the CPU-tuned one, and TensorFlow was never imported.
"""

import sys

import jax
import jax.numpy as jnp
import keras
import numpy as np

from keras_attn.layers import MultiHeadAttention
from keras_attn.ops import attention_route
from keras_attn.ops import scaled_dot_product_attention as sdpa

assert keras.backend.backend() == "jax", keras.backend.backend()
rng = np.random.default_rng(0)
WEIGHTS = rng.normal(size=(8,)).astype("float32")
HALF = (("bfloat16", 0.1), ("float16", 0.05))
CASES = [
    dict(tq=6, tk=6, kv_heads=4, causal=True, mask=False, dtypes=()),
    dict(tq=3, tk=7, kv_heads=2, causal=True, mask=True, dtypes=HALF),  # fewer queries, GQA
    dict(tq=7, tk=4, kv_heads=1, causal=True, mask=False, dtypes=HALF),  # more queries than keys, MQA
    dict(tq=5, tk=9, kv_heads=4, causal=False, mask=True, dtypes=()),  # empty rows from the mask
    dict(tq=150, tk=150, kv_heads=2, causal=True, mask=True, dtypes=()),  # query blocks of 64 under XLA
]


def inputs(case, dtype):
    q = rng.normal(size=(2, case["tq"], 4, 8))
    k, v = (rng.normal(size=(2, case["tk"], case["kv_heads"], 8)) for _ in range(2))
    mask = None
    if case["mask"]:
        mask = rng.random((2, 1, case["tq"], case["tk"])) > 0.3
        mask[0, :, 1] = False
    return [jnp.asarray(x, dtype) for x in (q, k, v)], mask


def loss(q, k, v, mask, causal, implementation):
    return_weights = implementation is None
    out = sdpa(q, k, v, mask=mask, is_causal=causal, return_weights=return_weights,
               implementation=implementation or "auto")
    out = out[0] if return_weights else out
    return (out.astype("float32") * WEIGHTS).sum(), out


step = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2), has_aux=True), static_argnums=(4, 5))
for case in CASES:
    for dtype, atol in (("float32", 1e-4),) + case["dtypes"]:
        tensors, mask = inputs(case, dtype)
        reference = [x.astype("float32") for x in tensors]
        (_, want), want_grads = step(*reference, mask, case["causal"], None)
        for implementation in ("fused", "blocked"):
            (_, got), grads = step(*tensors, mask, case["causal"], implementation)
            got = np.asarray(got.astype("float32"))
            np.testing.assert_allclose(got, want, atol=atol, err_msg=f"{case} {dtype} {implementation}")
            for g, w in zip(grads, want_grads):
                g = np.asarray(g.astype("float32"))
                assert np.all(np.isfinite(g)), (case, dtype, implementation)
                np.testing.assert_allclose(g, w, atol=10 * atol, err_msg=f"{case} {dtype} {implementation} grad")
            if case["tq"] > case["tk"]:
                assert np.all(got[:, : case["tq"] - case["tk"]] == 0.0)
            if case["mask"]:
                assert np.all(got[0, 1] == 0.0)

# A differentiated bias, broadcast over batch and queries.
q, k, v = (jnp.asarray(rng.normal(size=(2, 5 if i == 0 else 9, 4, 8)), "float32") for i in range(3))
bias = jnp.asarray(rng.normal(size=(1, 4, 1, 9)), "float32")


def bias_loss(q, k, v, bias, implementation):
    out = sdpa(q, k, v, bias=bias, return_weights=implementation is None, implementation=implementation or "auto")
    out = out[0] if implementation is None else out
    return (out * WEIGHTS).sum()


bias_grad = jax.jit(jax.grad(bias_loss, argnums=(0, 1, 2, 3)), static_argnums=4)
want_grads = bias_grad(q, k, v, bias, None)
for implementation in ("fused", "blocked"):
    for g, w in zip(bias_grad(q, k, v, bias, implementation), want_grads):
        np.testing.assert_allclose(g, w, atol=1e-4, err_msg=f"bias {implementation}")

# The route this process takes: CPU, so the CPU-tuned kernels under XLA.
q = jnp.zeros((1, 300, 2, 8))
assert attention_route.device_kind(q) == "cpu"
seen = []
jax.jit(lambda q: seen.append(attention_route.device_kind(q)) or q)(q)
assert seen == ["cpu"], seen
chosen = attention_route.route("auto", q, q, q, mask=None, bias=None, is_causal=True, dropout=False,
                               return_weights=False, chunk_size=None)
assert chosen == attention_route.Route("query_blocks", block=64), chosen

# MultiHeadAttention: every implementation gives the same outputs.
x = rng.normal(size=(2, 5, 8)).astype("float32")
layers = [MultiHeadAttention(2, 4, implementation=name) for name in attention_route.IMPLEMENTATIONS]
for layer in layers:
    layer(x, x)
    layer.set_weights(layers[0].get_weights())
outs = [np.asarray(layer(x, x, use_causal_mask=True)) for layer in layers]
for out in outs[1:]:
    np.testing.assert_allclose(out, outs[0], atol=1e-5)

assert "tensorflow" not in sys.modules, "keras_attn imported TensorFlow on the JAX backend"
print("jax routes: ok")
