"""keras_attn.ops.attention_route: which kernel each device, backend and call gets.

The decisions for GPU and TPU are checked by telling `choose_route` the device
kind (no accelerator needed); the wiring by forcing the kind `route` reads.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_attn.layers import MultiHeadAttention
from keras_attn.ops import attention_route
from keras_attn.ops import scaled_dot_product_attention as sdpa
from keras_attn.ops.attention_route import Call, Route, choose_route


def _call(dtype="bfloat16", head_dim=64, length=1024, key_length="same", **features):
    key_length = length if key_length == "same" else key_length
    return Call(dtype, head_dim=head_dim, value_dim=features.pop("value_dim", head_dim),
                query_length=length, key_length=key_length, **features)


def _gpu(call, implementation="auto", backend="jax", **kwargs):
    return choose_route(implementation, call, backend=backend, device="gpu", **kwargs)


@pytest.mark.parametrize(
    "call, xla, expected",
    [
        (_call(is_causal=True), False, Route("query_blocks", block=256)),
        (_call(is_causal=True), True, Route("query_blocks", block=64)),
        (_call(length=200, is_causal=True), False, Route("one_pass")),
        (_call(), False, Route("one_pass")),
        (_call(), True, Route("weights")),
        (_call(length=4096), True, Route("query_blocks", block=512)),
        (_call(return_weights=True, is_causal=True), False, Route("weights")),
        (_call(has_bias=True, static_bias=False), False, Route("weights")),
        (_call(chunk_size=256), False, Route("chunked")),
    ],
)
def test_cpu_keeps_the_cpu_tuned_kernels(call, xla, expected):
    for backend in ("tensorflow", "jax"):
        assert choose_route("auto", call, backend=backend, device="cpu", xla=xla) == expected


@pytest.mark.parametrize(
    "call, flash",
    [
        (_call(), True),
        (_call(is_causal=True), True),
        (_call(dtype="float16", head_dim=128), True),
        (_call(head_dim=256), True),
        (_call(has_mask=True), True),  # even static lengths
        (_call(has_bias=True, length=1024, key_length=2048), True),
        (_call(is_causal=True, length=64, key_length=1024), True),  # causal pattern joins the mask
        (_call(dtype="float32"), False),
        (_call(head_dim=12), False),
        (_call(head_dim=512), False),
        (_call(value_dim=32), False),
        (_call(dtype=None), False),  # query, key and value of different dtypes
        (_call(has_mask=True, length=1023), False),  # cuDNN's backward pass wants even lengths
        (_call(has_mask=True, length=None), False),
        (_call(is_causal=True, length=1024, key_length=None), False),
    ],
)
def test_gpu_takes_the_fused_kernel_with_flash_where_cudnn_runs_the_call(call, flash):
    assert _gpu(call) == Route("fused", flash=flash)


def test_gpu_without_a_flash_capable_device_takes_the_fused_one_pass():
    assert _gpu(_call(), flash_hardware=False) == Route("fused", flash=False)


@pytest.mark.parametrize(
    "call, expected",
    [
        (_call(dropout=True), Route("one_pass")),
        (_call(dropout=True, is_causal=True), Route("one_pass")),  # no CPU blocks on GPU
        (_call(return_weights=True), Route("weights")),
        (_call(dropout=True, has_bias=True, static_bias=False), Route("weights")),
        (_call(chunk_size=256), Route("fused", flash=True)),  # flash is memory-linear too
        (_call(chunk_size=256, dropout=True), Route("chunked")),  # hashed dropout
        (_call(chunk_size=256, dtype="float32"), Route("chunked")),  # no flash for float32
        (_call(chunk_size=256, has_bias=True, lazy_bias=True), Route("chunked")),  # a BucketedBias stays lazy
    ],
)
def test_gpu_falls_back_to_the_library_for_what_the_fused_kernel_cannot_do(call, expected):
    assert _gpu(call) == expected


@pytest.mark.parametrize(
    "call, flash",
    [
        (_call(is_causal=True), True),
        (_call(is_causal=True, dtype="float32"), True),
        (_call(), False),  # keras' Splash call would apply a causal mask
        (_call(is_causal=True, has_mask=True), False),  # ...or the first example's mask
        (_call(is_causal=True, has_bias=True), False),  # ...or drop the bias
        (_call(is_causal=True, length=64, key_length=1024), False),  # causal over unequal lengths
    ],
)
def test_tpu_uses_keras_flash_only_for_plain_causal_attention(call, flash):
    assert choose_route("auto", call, backend="jax", device="tpu") == Route("fused", flash=flash)


def test_jax_float16_computes_in_float32_off_gpu():
    # JAX's XLA attention asks for float16 x float16 -> float32 products, which only GPUs run.
    call = _call(dtype="float16")
    assert choose_route("fused", call, backend="jax", device="cpu") == Route("fused", flash=False, dtype="float32")
    assert choose_route("auto", call, backend="jax", device="tpu").dtype == "float32"
    assert _gpu(call).dtype is None
    assert choose_route("fused", call, backend="tensorflow", device="cpu").dtype is None


def test_other_backends_on_gpu():
    assert _gpu(_call(), backend="tensorflow") == Route("fused", flash=False)
    assert _gpu(_call(), backend="torch") == Route("fused", flash=None)  # PyTorch picks its kernel
    assert _gpu(_call(chunk_size=128), backend="torch") == Route("chunked")


def test_forced_implementations():
    assert choose_route("fused", _call(), backend="tensorflow", device="cpu") == Route("fused", flash=False)
    assert _gpu(_call(is_causal=True), "blocked", xla=True) == Route("query_blocks", block=64)
    assert _gpu(_call(chunk_size=64), "fused") == Route("fused", flash=True)
    for call in (_call(return_weights=True), _call(dropout=True)):
        with pytest.raises(ValueError, match="implementation='fused' cannot"):
            choose_route("fused", call, backend="jax", device="cpu")


def test_bad_implementation_names_the_argument():
    for make in (lambda: sdpa(*[np.zeros((1, 2, 1, 4), "float32")] * 3, implementation="flash"),
                 lambda: MultiHeadAttention(2, 4, implementation="flash")):
        with pytest.raises(ValueError, match="Received: implementation='flash'"):
            make()


def test_device_kind_is_cpu_here_eagerly_in_graphs_and_under_xla():
    seen = []

    def probe(x):
        seen.append(attention_route.device_kind(x))
        return x

    x = tf.zeros((2,))
    probe(x)
    tf.function(probe)(x)
    tf.function(probe, jit_compile=True)(x)
    with tf.device("/CPU:0"):
        tf.function(probe)(x)
    assert seen == ["cpu"] * 4
    assert attention_route.device_kind(np.zeros(2)) == "cpu"


class _Spy:
    """Records the calls of keras.ops.dot_product_attention (and runs it)."""

    def __init__(self, monkeypatch):
        self.flash = []
        self._real = keras.ops.dot_product_attention
        monkeypatch.setattr(keras.ops, "dot_product_attention", self)

    def __call__(self, *args, **kwargs):
        self.flash.append(kwargs["flash_attention"])
        return self._real(*args, **kwargs)


def test_route_is_read_per_call_from_the_device_kind(monkeypatch):
    spy = _Spy(monkeypatch)
    q = np.random.default_rng(0).normal(size=(1, 8, 2, 8)).astype("float32")
    sdpa(q, q, q, is_causal=True)
    assert spy.flash == []  # CPU: the library's kernels
    sdpa(q, q, q, is_causal=True, implementation="fused")
    assert spy.flash == [False]
    monkeypatch.setattr(attention_route, "device_kind", lambda tensor=None: "gpu")
    layer = MultiHeadAttention(2, 4)
    layer(q[:, :, 0], q[:, :, 0])
    assert spy.flash == [False, False]  # float32 on a "GPU": fused, no flash
    layer(q[:, :, 0], q[:, :, 0], return_attention_scores=True)
    assert len(spy.flash) == 2  # weights: the library's pass
    assert MultiHeadAttention(2, 4, implementation="blocked").get_config()["implementation"] == "blocked"
