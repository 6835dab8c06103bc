"""Attention through the backend's fused kernel, `keras.ops.dot_product_attention`,
held to keras_attn's contract.

Keras' call reaches cuDNN flash attention under JAX (`flash_attention=True`),
PyTorch's fused kernels, and XLA's one pass otherwise. Where it differs from
the contract of `keras_attn.ops.scaled_dot_product_attention`, this module
puts it right:

- `is_causal` there lets query `i` see keys `j <= i` (aligned to the start of
  the keys); here queries are aligned to the end. The two agree for equal
  static lengths; otherwise the end-aligned causal pattern joins the mask;
- a row with no key to attend gets the mean of the values there (a uniform
  softmax over large negative logits); here it gets exact zeros, by a `where`
  on "the row has a key", so its gradients are zeros too;
- cuDNN folds the mask into a bias that must span all query and key
  positions, so with flash both are broadcast to `(.., .., Tq, Tk)`;
- grouped-query attention: JAX takes keys and values with fewer heads as
  they are; other backends get them repeated here (keras' TensorFlow call
  does not repeat a single key/value head);
- PyTorch takes a mask or a bias, not both: the mask joins the bias.

The softmax runs in float32 on every backend (JAX: float32 logits from half
inputs; TensorFlow: `q . k` in the inputs' dtype, then float32).
"""

import keras
from keras import ops

from keras_attn import masking

# Added to the bias where the mask says no (PyTorch, which takes only one of them).
MASKED_LOGIT = -1e9


def _static_dim(tensor, axis):
    dim = tensor.shape[axis]
    return dim if isinstance(dim, int) else None


def _repeat_heads(tensor, num_heads):
    """`(B, S, K, D)` -> `(B, S, num_heads, D)`."""
    groups = num_heads // tensor.shape[2]
    return tensor if groups == 1 else ops.repeat(tensor, groups, axis=2)


def _span_scores(tensor, query, key):
    """Broadcast a rank-4 mask/bias over all `(Tq, Tk)` positions (batch and heads may stay 1)."""
    if tensor is None:
        return None
    shape = (ops.shape(tensor)[0], ops.shape(tensor)[1], ops.shape(query)[1], ops.shape(key)[1])
    return ops.broadcast_to(tensor, shape)


def fused_attention(query, key, value, *, mask, bias, is_causal, scale, flash, dtype=None):
    """`keras.ops.dot_product_attention` with keras_attn's contract.

    Args:
        query: `(B, Tq, H, D)`.
        key, value: `(B, Tk, K, D)`, `(B, Tk, K, Dv)`; `K` divides `H`.
        mask: boolean, rank 4 (broadcastable to `(B, H, Tq, Tk)`), or `None`.
        bias: float, rank 4, or `None`.
        is_causal: query `i` sees keys `j <= i + Tk - Tq`.
        scale: the logit scale (a float).
        flash: the `flash_attention` argument of keras' call (`True`, `False`
            or `None`).
        dtype: the dtype keras' call computes in; default: the inputs'.

    Returns:
        `(B, Tq, H, Dv)` in `value`'s dtype.
    """
    backend = keras.backend.backend()
    out_dtype = value.dtype
    if dtype is not None:
        query, key, value = (ops.cast(x, dtype) for x in (query, key, value))
    if backend != "jax":
        key, value = _repeat_heads(key, query.shape[2]), _repeat_heads(value, query.shape[2])
    q_len, k_len = _static_dim(query, 1), _static_dim(key, 1)
    keras_causal = bool(is_causal) and q_len is not None and q_len == k_len
    if is_causal and not keras_causal:
        causal = masking.causal_mask(ops.shape(query)[1], ops.shape(key)[1])  # aligned to the end
        mask = masking.merge_masks(mask, causal[None, None])
    if flash:
        mask, bias = _span_scores(mask, query, key), _span_scores(bias, query, key)
    kernel_mask = mask
    if backend == "torch" and mask is not None and bias is not None:
        bias, kernel_mask = ops.where(mask, ops.cast(bias, "float32"), MASKED_LOGIT), None
    out = ops.dot_product_attention(
        query, key, value, bias=bias, mask=kernel_mask, scale=scale, is_causal=keras_causal, flash_attention=flash
    )  # (B, Tq, H, Dv)
    if mask is not None:
        seen = mask
        if keras_causal:  # a row's only allowed keys may lie above the diagonal
            seen = masking.merge_masks(mask, masking.causal_mask(ops.shape(query)[1], ops.shape(key)[1])[None, None])
        has_key = ops.transpose(ops.any(seen, axis=-1, keepdims=True), (0, 2, 1, 3))  # (B|1, Tq, H|1, 1)
        out = ops.where(has_key, out, ops.zeros_like(out))
    return ops.cast(out, out_dtype)
