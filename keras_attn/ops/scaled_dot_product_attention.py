"""Scaled dot-product attention: the one attention kernel of keras_attn.

Which kernel runs a call is decided at trace time by
`keras_attn/ops/attention_route.py` (device, backend, the call's features;
`implementation="auto" | "fused" | "blocked"` forces a side):

- fused: the backend's `keras.ops.dot_product_attention` (cuDNN flash
  attention under JAX, PyTorch's fused kernels, XLA's one pass), held to the
  contract below by `keras_attn/ops/fused_attention.py`. The default on GPU
  and TPU;
- dense: the `(batch, heads, query, key)` score matrix, softmax in float32,
  and a hand-written backward pass (`keras_attn/ops/softmax_attention.py`);
  on CPU, causal attention over static lengths runs in query blocks that skip
  the keys above the diagonal, and very long non-causal attention in query
  blocks (memory linear in length), with the same numbers. Asking for the
  weights, or one unblocked pass under XLA on CPU, takes a plain,
  automatically differentiated pass;
- chunked (`chunk_size=N`): online softmax over key blocks, queries in blocks,
  and a backward pass that recomputes scores block by block
  (`keras_attn/ops/chunked_attention.py`). Memory grows linearly with length.
  On GPU, a call the flash kernel can run (no dropout) takes it instead, as
  memory-linear and faster.

On every path a query row that may attend to no key returns exactly zeros, its
weights are zeros and its gradients are finite, whatever the dtype.
"""

import math

from keras import ops
from keras import random

from keras_attn import masking
from keras_attn.ops import attention_route
from keras_attn.ops.bucketed_bias import BucketedBias
from keras_attn.ops.chunked_attention import chunked_attention
from keras_attn.ops.fused_attention import fused_attention
from keras_attn.ops.softmax_attention import softmax_attention

# Added to masked logits (float32). Far below any real logit, far from overflow.
MASKED_LOGIT = -1e9


def _static_dim(tensor, axis):
    dim = tensor.shape[axis]
    return dim if isinstance(dim, int) else None


def _validate(query, key, value, mask, bias, chunk_size, dropout_rate, implementation):
    for name, tensor in (("query", query), ("key", key), ("value", value)):
        if len(tensor.shape) != 4:
            raise ValueError(
                f"`{name}` must have rank 4 (batch, sequence, heads, head_dim). "
                f"Received: {name}.shape={tuple(tensor.shape)}"
            )
    shapes = (
        f"Received: query.shape={tuple(query.shape)}, key.shape={tuple(key.shape)}, "
        f"value.shape={tuple(value.shape)}"
    )
    if _static_dim(query, -1) != _static_dim(key, -1):
        raise ValueError(f"`query` and `key` must have the same head_dim. {shapes}")
    if _static_dim(key, 1) is not None and _static_dim(value, 1) is not None:
        if key.shape[1] != value.shape[1]:
            raise ValueError(f"`key` and `value` must have the same length. {shapes}")
    if key.shape[2] != value.shape[2]:
        raise ValueError(f"`key` and `value` must have the same number of heads. {shapes}")
    if query.shape[2] % key.shape[2] != 0:
        raise ValueError(
            "The number of query heads must be a multiple of the number of "
            f"key/value heads (grouped-query attention). {shapes}"
        )
    target = (query.shape[0], query.shape[2], query.shape[1], key.shape[1])
    masking.check_broadcastable(mask, target, "mask")
    if isinstance(bias, BucketedBias):
        if bias.num_heads not in (1, query.shape[2]):
            raise ValueError(
                "A `BucketedBias` table needs one column per query head (or one for all). "
                f"Received: table.shape={tuple(bias.table.shape)}, query.shape={tuple(query.shape)}"
            )
    else:
        masking.check_broadcastable(bias, target, "bias")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"`chunk_size` must be a positive int or None. Received: chunk_size={chunk_size}")
    if not 0.0 <= dropout_rate < 1.0:
        raise ValueError(f"`dropout_rate` must be in [0, 1). Received: dropout_rate={dropout_rate}")
    attention_route.validate_implementation(implementation)


def _repeat_kv_heads(tensor, num_heads):
    """`(b, s, kv_heads, d)` -> `(b, s, num_heads, d)` for grouped-query attention."""
    groups = num_heads // tensor.shape[2]
    return tensor if groups == 1 else ops.repeat(tensor, groups, axis=2)


def _as_4d(mask):
    """Left-pad a mask/bias to rank 4 (numpy broadcasting from the right)."""
    if mask is None:
        return None
    while len(mask.shape) < 4:
        mask = ops.expand_dims(mask, 0)
    return mask


def _masked_softmax(logits, mask, bias, rows_may_be_empty, dropout_rate, training, seed):
    """float32 logits `(B, H, Tq, Tk)` -> attention weights (float32)."""
    if bias is not None:
        logits = logits + ops.cast(bias, "float32")
    if mask is not None:
        logits = ops.where(mask, logits, MASKED_LOGIT)
    weights = ops.softmax(logits, axis=-1)
    if mask is not None and rows_may_be_empty:
        # Zero the masked keys; a row with no allowed key becomes all zeros.
        weights = ops.where(mask, weights, 0.0)
    if training and dropout_rate > 0.0:
        weights = random.dropout(weights, dropout_rate, seed=seed)
    return weights


def _one_pass_mask(query, key, mask, is_causal):
    """The mask of a one-pass call (causal merged in) and whether a row may be empty.

    A pure causal mask with queries aligned to the end of at least as many
    keys leaves every query a key: no empty rows to zero after the softmax.
    """
    q_len, k_len = _static_dim(query, 1), _static_dim(key, 1)
    rows_may_be_empty = mask is not None or not (
        is_causal and q_len is not None and k_len is not None and k_len >= q_len
    )
    if is_causal:
        causal = masking.causal_mask(ops.shape(query)[1], ops.shape(key)[1])
        mask = masking.merge_masks(mask, causal[None, None])
    return mask, rows_may_be_empty


def _weights_and_output(query, key, value, mask, bias, is_causal, scale, dropout_rate, training, seed):
    """One pass that also returns the weights, differentiated automatically."""
    # query (B, Tq, H, D), key (B, Tk, H, D), value (B, Tk, H, Dv); mask (.., .., Tq, Tk)
    mask, rows_may_be_empty = _one_pass_mask(query, key, mask, is_causal)
    q = ops.cast(query, "float32") * scale
    k = ops.cast(key, "float32")
    logits = ops.einsum("bqhd,bkhd->bhqk", q, k)  # (B, H, Tq, Tk)
    weights = _masked_softmax(logits, mask, bias, rows_may_be_empty, dropout_rate, training, seed)
    weights = ops.cast(weights, value.dtype)
    output = ops.einsum("bhqk,bkhd->bqhd", weights, value)  # (B, Tq, H, Dv)
    return output, weights


def _dropout_scale(shape, dropout_rate, training, seed):
    """`keep / (1 - rate)` for the weights of `shape`, or `None` when no dropout.

    The same draw as `keras.random.dropout` on weights of that shape.
    """
    if not (training and dropout_rate > 0.0):
        return None
    return random.dropout(ops.ones(shape, "float32"), dropout_rate, seed=seed)


def _slice_axis(tensor, axis, start, stop):
    """Static slice of a rank-4 tensor on a non-broadcast axis (full range: unchanged)."""
    if tensor is None or tensor.shape[axis] == 1 or (start == 0 and stop == tensor.shape[axis]):
        return tensor
    index = [slice(None)] * 4
    index[axis] = slice(start, stop)
    return tensor[tuple(index)]


def _heads_first(query, key, value, scale):
    """`(B, T, H, D)` -> `(B, H, T, D)`: float32 pre-scaled queries and keys."""
    q = ops.transpose(ops.cast(query, "float32") * scale, (0, 2, 1, 3))
    k = ops.transpose(ops.cast(key, "float32"), (0, 2, 1, 3))
    v = ops.transpose(value, (0, 2, 1, 3))
    return q, k, v


def _attend(query, key, value, mask, bias, is_causal, scale, dropout_rate, training, seed):
    """Dense attention in one pass, through the hand-written gradient."""
    mask, rows_may_be_empty = _one_pass_mask(query, key, mask, is_causal)
    q, k, v = _heads_first(query, key, value, scale)
    shape = (ops.shape(q)[0], ops.shape(q)[1], ops.shape(q)[2], ops.shape(k)[2])
    out = softmax_attention(
        q, k, v, mask=mask, bias=bias, masked_logit=MASKED_LOGIT, rows_may_be_empty=rows_may_be_empty,
        dropout_scale=_dropout_scale(shape, dropout_rate, training, seed),
    )
    return ops.transpose(out, (0, 2, 1, 3))  # (B, Tq, H, Dv)


def _attend_blocks(query, key, value, mask, bias, is_causal, scale, dropout_rate, training, seed, block):
    """Dense attention in static query blocks (see `attention_route.query_block_size`).

    Same numbers as one pass. Queries, keys and values are moved to
    `(B, H, T, D)` once, so no block transposes anything.
    """
    q_len, k_len = query.shape[1], key.shape[1]
    offset = k_len - q_len
    q, k, v = _heads_first(query, key, value, scale)
    outputs = []
    for start in range(0, q_len, block):
        stop = min(start + block, q_len)
        keys_seen = stop + offset if is_causal else k_len  # keys [0, keys_seen)
        block_mask = _slice_axis(_slice_axis(mask, 2, start, stop), 3, 0, keys_seen)
        rows_may_be_empty = block_mask is not None
        if is_causal:
            # Query i (absolute) may attend key j <= i + offset.
            causal = masking.causal_mask(stop - start, keys_seen, cache_index=start + offset)[None, None]
            block_mask = masking.merge_masks(block_mask, causal)
        shape = (ops.shape(q)[0], ops.shape(q)[1], stop - start, keys_seen)
        outputs.append(
            softmax_attention(
                _slice_axis(q, 2, start, stop), _slice_axis(k, 2, 0, keys_seen), _slice_axis(v, 2, 0, keys_seen),
                mask=block_mask, bias=_slice_axis(_slice_axis(bias, 2, start, stop), 3, 0, keys_seen),
                masked_logit=MASKED_LOGIT, rows_may_be_empty=rows_may_be_empty,
                dropout_scale=_dropout_scale(shape, dropout_rate, training, seed),
            )
        )
    return ops.transpose(ops.concatenate(outputs, axis=2), (0, 2, 1, 3))  # (B, Tq, H, Dv)


def scaled_dot_product_attention(
    query,
    key,
    value,
    *,
    mask=None,
    bias=None,
    is_causal=False,
    scale=None,
    dropout_rate=0.0,
    training=False,
    seed=None,
    chunk_size=None,
    return_weights=False,
    implementation="auto",
):
    """Scaled dot-product attention `softmax(q k^T * scale + bias) v`.

    Args:
        query: `(batch, query_length, heads, head_dim)`.
        key: `(batch, key_length, kv_heads, head_dim)`; `heads` must be a
            multiple of `kv_heads` (grouped-query / multi-query attention).
        value: `(batch, key_length, kv_heads, value_dim)`.
        mask: boolean, broadcastable (numpy rules) to
            `(batch, heads, query_length, key_length)`; `True` = may attend.
        bias: float, broadcastable like `mask`, added to the logits; or a
            `keras_attn.ops.bucketed_bias.BucketedBias` (a relative-position
            table), which the chunked path computes block by block and the
            dense path materialises once.
        is_causal: query `i` attends keys `j <= i + key_length - query_length`
            (queries aligned to the end of the keys, as in cached decoding).
        scale: logit scale; default `1 / sqrt(head_dim)`.
        dropout_rate: dropout on the attention weights when `training`.
        training: whether dropout is applied.
        seed: int or `keras.random.SeedGenerator` for dropout.
        chunk_size: if set, memory-efficient attention over blocks of
            `chunk_size` queries and keys: memory linear in length. Its
            dropout mask is a hash of each weight's position and one seed
            drawn per call (`keras_attn.ops.hashed_dropout`), so the backward
            pass rebuilds it; it differs from the dense path's draw.
        return_weights: also return the weights `(batch, heads, query, key)`.
            Not available with `chunk_size`, which never forms them.
        implementation: `"auto"` (default): on CPU the library's kernels with
            CPU-measured block sizes; on GPU and TPU the backend's fused
            kernel (`keras.ops.dot_product_attention`, flash where the
            backend runs the call's dtype, mask and head size), the
            library's one pass for what it cannot do (weights, dropout).
            `"fused"`: the fused kernel on any device (`ValueError` with
            `return_weights` or dropout in training). `"blocked"`: the
            library's CPU-tuned kernels on any device. See
            `keras_attn/ops/attention_route.py`.

    Returns:
        `(batch, query_length, heads, value_dim)` in `value`'s dtype, or
        `(output, weights)` when `return_weights=True`.

    Logits and softmax run in float32 for every input dtype, so masked logits
    never overflow in float16. A query row with no allowed key returns zeros.

    Example:

    >>> import numpy as np
    >>> from keras_attn.ops import scaled_dot_product_attention
    >>> q = np.ones((1, 2, 1, 4), "float32")
    >>> v = np.arange(8, dtype="float32").reshape(1, 2, 1, 4)
    >>> out = scaled_dot_product_attention(q, q, v, is_causal=True)
    >>> np.asarray(out)[0, :, 0].tolist()
    [[0.0, 1.0, 2.0, 3.0], [2.0, 3.0, 4.0, 5.0]]
    """
    _validate(query, key, value, mask, bias, chunk_size, dropout_rate, implementation)
    num_heads = query.shape[2]
    head_dim = query.shape[-1]
    scale = 1.0 / math.sqrt(head_dim) if scale is None else float(scale)
    mask = _as_4d(mask)
    bucketed = isinstance(bias, BucketedBias)
    bias = bias if bucketed else _as_4d(bias)
    if mask is not None:
        mask = ops.cast(mask, "bool")
    if chunk_size is not None and return_weights:
        raise ValueError(
            "`return_weights=True` needs the full weight matrix, which the "
            f"chunked path never forms. Received: chunk_size={chunk_size}"
        )
    dropout = bool(training) and dropout_rate > 0.0
    chosen = attention_route.route(
        implementation, query, key, value, mask=mask, bias=bias, is_causal=is_causal,
        dropout=dropout, return_weights=return_weights, chunk_size=chunk_size,
    )
    if bucketed and chosen.kernel != "chunked":
        # Only the chunked kernel computes it block by block; the others take it whole.
        bias = bias.dense(ops.shape(query)[1], ops.shape(key)[1])  # (1, H, Tq, Tk) float32
    if chosen.kernel == "fused":
        return fused_attention(query, key, value, mask=mask, bias=bias, is_causal=is_causal, scale=scale,
                               flash=chosen.flash, dtype=chosen.dtype)
    key = _repeat_kv_heads(key, num_heads)
    value = _repeat_kv_heads(value, num_heads)

    if chosen.kernel == "chunked":
        dropout_seed = None
        if dropout:
            # One draw per call; the kernel hashes it with each weight's position.
            drawn = random.randint((1,), 0, 2**31 - 1, dtype="int32", seed=seed)[0]
            dropout_seed = ops.cast(drawn, "uint32")
        return chunked_attention(
            query, key, value, mask=mask, bias=bias, is_causal=is_causal, scale=scale, chunk_size=chunk_size,
            dropout_rate=dropout_rate if dropout else 0.0, dropout_seed=dropout_seed,
        )
    if chosen.kernel == "query_blocks":
        bias = None if bias is None else ops.cast(bias, "float32")
        return _attend_blocks(
            query, key, value, mask, bias, is_causal, scale, dropout_rate, training, seed, chosen.block
        )
    if chosen.kernel == "one_pass":
        bias = None if bias is None else ops.cast(bias, "float32")
        return _attend(query, key, value, mask, bias, is_causal, scale, dropout_rate, training, seed)
    output, weights = _weights_and_output(query, key, value, mask, bias, is_causal, scale, dropout_rate, training, seed)
    return (output, weights) if return_weights else output
