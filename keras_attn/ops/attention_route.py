"""Which kernel runs one attention call: decided at trace time from the device,
the backend and the call's features.

`keras_attn.ops.scaled_dot_product_attention` has several kernels with one
contract (a query row with no key returns zeros, softmax in float32, `is_causal`
aligned to the end of the keys):

- `"fused"`: the backend's own `keras.ops.dot_product_attention` (cuDNN flash
  attention under JAX with `flash_attention=True`, PyTorch's fused kernels,
  XLA's one pass otherwise), wrapped by `keras_attn/ops/fused_attention.py`;
- `"query_blocks"`, `"one_pass"`, `"weights"`: the library's dense paths (static
  query blocks with a hand-written gradient, one pass with it, one pass left to
  automatic differentiation that also returns the weights);
- `"chunked"`: the library's memory-linear online softmax (`chunk_size=N`).

`implementation="auto"` (the default) takes, on CPU, the library's paths with
the block sizes measured on a 2-core CPU (`benchmarks/RESULTS.md`); on GPU and
TPU the fused call, with `flash_attention` where the backend can run it for the
call's dtype, head size, mask and bias, and the library's one pass for what the
fused call cannot do (return the weights, dropout); with `chunk_size`, flash
where it runs, else the chunked kernel (hashed dropout, a `BucketedBias`
computed block by block). `"fused"` and `"blocked"` force one side. `choose_route` is a pure function of what it is told, so every
device's decision is tested on any machine; `route` gathers those facts for one
call. Backend modules are imported inside functions, so the library imports no
TensorFlow on other backends.
"""

import typing

import keras

from keras_attn.ops.bucketed_bias import BucketedBias
from keras_attn.ops.xla_context import compiling_with_xla

IMPLEMENTATIONS = ("auto", "fused", "blocked")
HALF_DTYPES = ("float16", "bfloat16")
# Causal attention over static lengths runs in query blocks of this size on
# CPU, skipping the key blocks above the diagonal: large blocks for
# TensorFlow's graph executor, small ones under XLA, each the fastest on a
# 2-core CPU at lengths 256-2048 (benchmarks/RESULTS.md).
QUERY_BLOCK_SIZE = 256
XLA_QUERY_BLOCK_SIZE = 64
# Non-causal attention on CPU runs in query blocks of NON_CAUSAL_BLOCK_SIZE
# from LONG_QUERY_LENGTH queries on (memory linear in length); shorter, in one
# pass, which is faster on CPU (benchmarks/RESULTS.md).
LONG_QUERY_LENGTH = 2048
NON_CAUSAL_BLOCK_SIZE = 512
# cuDNN flash attention (jax._src.cudnn.fused_attention_stablehlo): head size a
# multiple of 8, at most 256 (128 before Hopper; keras' own check, run on the
# GPU, knows the architecture).
FLASH_HEAD_DIM_MULTIPLE = 8
FLASH_MAX_HEAD_DIM = 256


class Call(typing.NamedTuple):
    """The static facts of one attention call that its route depends on."""

    dtype: str  # of query, key and value (None when they differ)
    head_dim: typing.Optional[int]
    value_dim: typing.Optional[int]
    query_length: typing.Optional[int]  # None when not static
    key_length: typing.Optional[int]
    has_mask: bool = False
    has_bias: bool = False
    static_bias: bool = True  # the bias has static sizes (the hand-written gradients need them)
    lazy_bias: bool = False  # a BucketedBias: only the chunked kernel computes it block by block
    is_causal: bool = False
    dropout: bool = False  # training with dropout_rate > 0
    return_weights: bool = False
    chunk_size: typing.Optional[int] = None


class Route(typing.NamedTuple):
    """`kernel`, and its settings: `flash` (the fused call's `flash_attention`),
    `block` (the query block size of `"query_blocks"`), `dtype` (the dtype the
    fused call computes in, when not the inputs')."""

    kernel: str  # "fused" | "query_blocks" | "one_pass" | "weights" | "chunked"
    flash: typing.Optional[bool] = None
    block: typing.Optional[int] = None
    dtype: typing.Optional[str] = None


def validate_implementation(implementation):
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(
            f"`implementation` must be one of {IMPLEMENTATIONS}. Received: implementation={implementation!r}"
        )


def _unfusable(call):
    """What the fused call cannot do for `call`, or `None`."""
    if call.return_weights:
        return "return the attention weights"
    if call.dropout:
        return "apply dropout to the attention weights"
    return None


def query_block_size(call, xla):
    """The CPU-tuned query block of the dense path, or `None` for one pass.

    Causal attention with static lengths longer than one block runs its
    queries in blocks of `QUERY_BLOCK_SIZE` (`XLA_QUERY_BLOCK_SIZE` when
    compiled by XLA): block `[start, stop)` attends only keys
    `[0, stop + offset)`, so the score blocks above the diagonal are never
    computed (about half the work at long lengths). Non-causal attention runs
    in blocks from `LONG_QUERY_LENGTH` queries on, which keeps its memory
    linear in length.
    """
    q_len, k_len = call.query_length, call.key_length
    if q_len is None or k_len is None:
        return None
    if call.is_causal:
        block = XLA_QUERY_BLOCK_SIZE if xla else QUERY_BLOCK_SIZE
        return block if q_len > block and k_len >= q_len else None
    return NON_CAUSAL_BLOCK_SIZE if q_len >= LONG_QUERY_LENGTH else None


def _library_route(call, xla, cpu_tuned):
    """The library's own kernels: CPU-tuned blocks, or one pass (GPU/TPU)."""
    if call.chunk_size is not None:
        return Route("chunked")
    if call.return_weights or not call.static_bias:
        return Route("weights")
    if not cpu_tuned:
        return Route("one_pass")
    block = query_block_size(call, xla)
    if block is not None:
        return Route("query_blocks", block=block)
    # Under XLA on CPU one pass is left to automatic differentiation in the
    # (B, T, H, D) layout, which XLA compiles faster there.
    return Route("weights" if xla else "one_pass")


def flash_supported(call, backend, device):
    """The fused call's `flash_attention` argument for `call`: `True`, `False`,
    or `None` (let the backend pick, PyTorch only).

    The device itself (cuDNN version, GPU architecture) is `route`'s question;
    this one is about the call:
    - JAX on GPU (cuDNN): float16/bfloat16, head size a multiple of 8 up to
      256, values as wide as keys; a mask or bias (cuDNN folds the mask into
      the bias) needs static even lengths, which cuDNN's backward pass asks for;
    - JAX on TPU (keras' Splash kernel): only causal attention with no mask
      and no bias over equal static lengths. Keras 3.15 builds any other
      Splash mask from the first example's mask, applies a causal mask when
      there is none, and drops the bias;
    - PyTorch on GPU: its own choice (`None`);
    - otherwise (TensorFlow, CPU): no flash kernel.
    """
    if device == "cpu":
        return False
    if backend == "torch":
        return None if device == "gpu" else False
    if backend != "jax":
        return False
    equal_static = call.query_length is not None and call.query_length == call.key_length
    if device == "tpu":
        return call.is_causal and not (call.has_mask or call.has_bias) and equal_static
    if call.dtype not in HALF_DTYPES or call.head_dim is None or call.value_dim != call.head_dim:
        return False
    if call.head_dim % FLASH_HEAD_DIM_MULTIPLE or call.head_dim > FLASH_MAX_HEAD_DIM:
        return False
    if call.has_mask or call.has_bias or (call.is_causal and not equal_static):
        lengths = (call.query_length, call.key_length)
        return None not in lengths and all(length % 2 == 0 for length in lengths)
    return True


def _fused(call, backend, device, flash):
    # JAX's XLA attention asks dot_general for float16 x float16 -> float32
    # products, which only GPUs run: elsewhere it computes in float32.
    upcast = backend == "jax" and call.dtype == "float16" and device != "gpu"
    return Route("fused", flash=flash, dtype="float32" if upcast else None)


def choose_route(implementation, call, *, backend, device, xla=False, flash_hardware=True):
    """The `Route` of `call`.

    Args:
        implementation: `"auto"`, `"fused"` or `"blocked"`.
        call: a `Call`.
        backend: the Keras backend name.
        device: `"cpu"`, `"gpu"` or `"tpu"`, where the computation runs.
        xla: whether the code is compiled by XLA (the CPU block sizes depend on it).
        flash_hardware: whether the device can run the backend's flash kernel
            at all (JAX on GPU: cuDNN and the architecture).

    Example:

    >>> call = Call("bfloat16", head_dim=64, value_dim=64, query_length=1024, key_length=1024, is_causal=True)
    >>> choose_route("auto", call, backend="jax", device="gpu")
    Route(kernel='fused', flash=True, block=None, dtype=None)
    >>> choose_route("auto", call, backend="jax", device="cpu", xla=True)
    Route(kernel='query_blocks', flash=None, block=64, dtype=None)
    """
    validate_implementation(implementation)
    if implementation == "blocked" or (implementation == "auto" and device == "cpu"):
        return _library_route(call, xla, cpu_tuned=True)
    flash = flash_supported(call, backend, device)
    flash = flash if flash_hardware or flash is None else False
    reason = _unfusable(call)
    if implementation == "fused":
        if reason is not None:
            raise ValueError(
                f"implementation='fused' cannot {reason}: the backend's fused kernel does not. "
                "Use implementation='auto' or 'blocked'. Received: implementation='fused', "
                f"return_weights={call.return_weights}, dropout in training={call.dropout}"
            )
        return _fused(call, backend, device, flash)
    if call.chunk_size is not None and (call.dropout or call.lazy_bias or flash is not True):
        # Memory linear in length: a flash kernel, or the library's chunks
        # (which alone keep dropout hashed and a BucketedBias unmaterialised).
        return Route("chunked")
    if reason is not None:
        return _library_route(call, xla, cpu_tuned=False)
    return _fused(call, backend, device, flash)


def _kind(platform):
    platform = str(platform).lower()
    if platform in ("gpu", "cuda", "rocm"):
        return "gpu"
    return "tpu" if platform == "tpu" else "cpu"


def device_kind(tensor=None):
    """`"cpu"`, `"gpu"` or `"tpu"`: where `tensor`'s computation runs, read at trace time.

    JAX: a concrete array's device, else the default device (inside `jit`
    the arrays are tracers). TensorFlow: the tensor's placement when it has
    one, else the first accelerator TensorFlow sees (where it places ops).
    PyTorch: the tensor's device. Other backends: CPU.

    Example:

    >>> import numpy as np
    >>> device_kind(np.zeros(2))
    'cpu'
    """
    backend = keras.backend.backend()
    if backend == "jax":
        return _jax_device_kind(tensor)
    if backend == "tensorflow":
        return _tensorflow_device_kind(tensor)
    if backend == "torch":
        device = getattr(tensor, "device", None)
        return {"cuda": "gpu", "xla": "tpu"}.get(getattr(device, "type", "cpu"), "cpu")
    return "cpu"


def _jax_device_kind(tensor):
    import jax  # noqa: PLC0415 (lazy: JAX backend only)

    if isinstance(tensor, jax.Array):
        try:
            return _kind(next(iter(tensor.devices())).platform)
        except Exception:  # noqa: BLE001, S110 (a tracer inside jit has no device yet)
            pass
    default = jax.config.jax_default_device
    if default is not None:
        return _kind(getattr(default, "platform", default))
    return _kind(jax.default_backend())


def _tensorflow_device_kind(tensor):
    import tensorflow as tf  # noqa: PLC0415 (lazy: TensorFlow backend only)

    placed = (getattr(tensor, "device", "") or "").upper() if tf.is_tensor(tensor) else ""
    for kind in ("TPU", "GPU", "CPU"):
        if f"{kind}:" in placed:
            return kind.lower()
    for kind in ("TPU", "GPU"):
        if tf.config.list_logical_devices(kind):
            return kind.lower()
    return "cpu"


def _flash_hardware(backend, device, query, key, value):
    """Whether the device runs the backend's flash kernel at all (trace time)."""
    if device != "gpu" or backend != "jax":
        return device == "tpu" or backend == "torch"
    try:
        # Keras' own check (cuDNN present, Ampere or later, layout and head
        # size for this GPU); private, so any failure means "no".
        from keras.src.backend.jax.nn import _can_use_flash_attention  # noqa: PLC0415

        return bool(_can_use_flash_attention(query, key, value, None))
    except Exception:  # noqa: BLE001
        return False


def _static_dim(tensor, axis):
    dim = tensor.shape[axis]
    return dim if isinstance(dim, int) else None


def route(implementation, query, key, value, *, mask, bias, is_causal, dropout, return_weights, chunk_size):
    """The `Route` of one call of `scaled_dot_product_attention` (trace time).

    `query`, `key`, `value` as given to the kernel (`key`/`value` with their
    own number of heads); `mask`/`bias` rank 4 or `None`, or `bias` a
    `keras_attn.ops.BucketedBias`.
    """
    lazy_bias = isinstance(bias, BucketedBias)
    dtypes = {keras.backend.standardize_dtype(x.dtype) for x in (query, key, value)}
    call = Call(
        dtype=dtypes.pop() if len(dtypes) == 1 else None,
        head_dim=_static_dim(query, -1),
        value_dim=_static_dim(value, -1),
        query_length=_static_dim(query, 1),
        key_length=_static_dim(key, 1),
        has_mask=mask is not None,
        has_bias=bias is not None,
        # A BucketedBias off the chunked path becomes (1, H, Tq, Tk).
        static_bias=bias is None or (
            None not in (_static_dim(query, 1), _static_dim(key, 1)) if lazy_bias else None not in bias.shape
        ),
        lazy_bias=lazy_bias,
        is_causal=bool(is_causal),
        dropout=bool(dropout),
        return_weights=bool(return_weights),
        chunk_size=chunk_size,
    )
    backend = keras.backend.backend()
    device = device_kind(query)
    return choose_route(
        implementation, call, backend=backend, device=device, xla=compiling_with_xla(),
        flash_hardware=_flash_hardware(backend, device, query, key, value),
    )
