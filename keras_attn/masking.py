"""Attention masks: built, merged and validated here and nowhere else.

Every mask in keras_attn is boolean and `True` means "may attend". Attention
masks are broadcastable to `(batch, heads, query_length, key_length)`; padding
masks are `(batch, length)`.

Example:

>>> import numpy as np
>>> from keras_attn import masking
>>> causal = masking.causal_mask(3, 3)
>>> np.asarray(causal).astype(int).tolist()
[[1, 0, 0], [1, 1, 0], [1, 1, 1]]
>>> padding = np.array([[True, True, False]])
>>> mask = masking.attention_mask_from_padding(key_padding_mask=padding)
>>> tuple(mask.shape)
(1, 1, 3)
"""

from keras import ops


def causal_mask(query_length, key_length, cache_index=None):
    """Lower-triangular mask of shape `(query_length, key_length)`.

    Query `i` may attend key `j` when `j <= i + offset`. Without `cache_index`
    the queries are aligned to the *end* of the keys (`offset = key_length -
    query_length`), the layout of cached decoding where the newest queries
    follow all earlier keys. With `cache_index` (a scalar, possibly a tensor)
    the first query sits at key position `cache_index`.
    """
    if cache_index is None:
        offset = key_length - query_length
    else:
        offset = ops.cast(cache_index, "int32")
    rows = ops.expand_dims(ops.arange(query_length, dtype="int32"), 1)
    cols = ops.expand_dims(ops.arange(key_length, dtype="int32"), 0)
    return ops.less_equal(cols, rows + offset)


def attention_mask_from_padding(query_padding_mask=None, key_padding_mask=None):
    """Combine `(batch, length)` padding masks into a `(batch, query, key)` mask.

    Returns `None` when both are `None`. A missing side broadcasts (size 1).
    """
    mask = None
    if query_padding_mask is not None:
        mask = ops.expand_dims(ops.cast(query_padding_mask, "bool"), -1)
    if key_padding_mask is not None:
        key = ops.expand_dims(ops.cast(key_padding_mask, "bool"), -2)
        mask = key if mask is None else ops.logical_and(mask, key)
    return mask


def merge_masks(*masks):
    """Logical AND of broadcastable boolean masks, ignoring `None` entries."""
    merged = None
    for mask in masks:
        if mask is None:
            continue
        mask = ops.cast(mask, "bool")
        merged = mask if merged is None else ops.logical_and(merged, mask)
    return merged


def check_broadcastable(mask, target_shape, name="mask"):
    """Raise `ValueError` when `mask`'s static shape cannot broadcast to `target_shape`.

    Dimensions that are unknown (`None`) on either side are accepted.
    """
    if mask is None:
        return
    mask_shape = tuple(mask.shape)
    target_shape = tuple(target_shape)
    if len(mask_shape) > len(target_shape):
        raise ValueError(
            f"`{name}` has rank {len(mask_shape)} but must broadcast to "
            f"{target_shape}. Received: {name}.shape={mask_shape}"
        )
    for got, want in zip(reversed(mask_shape), reversed(target_shape)):
        if got is None or want is None or got == 1 or got == want:
            continue
        raise ValueError(
            f"`{name}` cannot broadcast to {target_shape} (batch, heads, query, "
            f"key). Received: {name}.shape={mask_shape}"
        )


def build_attention_mask(
    query_length,
    key_length,
    query_padding_mask=None,
    key_padding_mask=None,
    attention_mask=None,
    use_causal_mask=False,
    cache_index=None,
):
    """The one mask an attention layer applies, or `None` for "attend everywhere".

    Args:
        query_length, key_length: ints or scalar tensors.
        query_padding_mask: `(batch, query_length)`, e.g. a Keras implicit mask.
        key_padding_mask: `(batch, key_length)`.
        attention_mask: explicit mask broadcastable to `(batch, query, key)`.
        use_causal_mask: add `causal_mask(query_length, key_length, cache_index)`.
        cache_index: position of the first query among the keys (cached decoding).

    Returns:
        A boolean mask broadcastable to `(batch, query_length, key_length)`.
    """
    causal = None
    if use_causal_mask:
        causal = ops.expand_dims(causal_mask(query_length, key_length, cache_index), 0)
    padding = attention_mask_from_padding(query_padding_mask, key_padding_mask)
    return merge_masks(padding, attention_mask, causal)


def add_head_axis(mask):
    """`(batch, query, key)` -> `(batch, 1, query, key)`; `None` stays `None`."""
    if mask is None:
        return None
    if len(mask.shape) == 3:
        return ops.expand_dims(mask, 1)
    return mask


def padding_mask_from_lengths(lengths, max_length):
    """`(batch,)` true lengths -> `(batch, max_length)` mask, `True` on real steps.

    >>> import numpy as np
    >>> np.asarray(padding_mask_from_lengths(np.array([1, 3]), 3)).astype(int).tolist()
    [[1, 0, 0], [1, 1, 1]]
    """
    positions = ops.expand_dims(ops.arange(max_length, dtype="int32"), 0)
    return ops.less(positions, ops.expand_dims(ops.cast(lengths, "int32"), -1))


def downsample_padding_mask(mask, stride):
    """Carry a `(batch, length)` padding mask through a stride, as a 'same'-padded
    strided convolution does: output step `t` reads inputs from `t * stride`, and it
    is real when that first input is real.

    >>> import numpy as np
    >>> mask = np.array([[True, True, True, False, False]])
    >>> np.asarray(downsample_padding_mask(mask, 2)).astype(int).tolist()
    [[1, 1, 0]]
    """
    if mask is None:
        return None
    return ops.cast(mask, "bool")[:, ::stride]


def implicit_mask(tensor):
    """The Keras implicit mask attached to `tensor` (e.g. by a `mask_zero`
    embedding), or `None`."""
    return getattr(tensor, "_keras_mask", None)


def without_implicit_mask(tensor):
    """`tensor` for sublayers that do not support masking.

    Returns a copy with no implicit mask instead of deleting the caller's mask
    (which other consumers of the same tensor, e.g. later decoder blocks
    reading the encoder output, still need).
    """
    if implicit_mask(tensor) is None:
        return tensor
    return ops.copy(tensor)


def kernel_mask(
    query,
    key,
    query_padding_mask=None,
    key_padding_mask=None,
    attention_mask=None,
    use_causal_mask=False,
    causal_start=0,
    allow_is_causal=True,
):
    """The `(mask, is_causal)` pair an attention layer hands the kernel.

    A causal mask alone over equal static lengths becomes `(None, True)`: the
    kernel then materialises nothing and skips the blocks above the diagonal.
    Otherwise every mask is merged into one `(batch, 1, query, key)` mask (or
    `None`) and `is_causal` is `False`.

    Args:
        query, key: `(batch, length, ...)` tensors (only their lengths are read).
        query_padding_mask, key_padding_mask, attention_mask: as in
            `build_attention_mask`.
        use_causal_mask: query `i` sees keys up to `causal_start + i`.
        causal_start: key position of the first query. `0` (the default)
            starts at key 0 like Keras; `None` aligns the queries to the end
            of the keys; a tensor is the cache index of cached decoding.
        allow_is_causal: `False` keeps the causal pattern in the mask (e.g.
            on the cached path, whose keys are a whole cache).

    >>> import numpy as np
    >>> x = np.zeros((1, 3, 2))
    >>> kernel_mask(x, x, use_causal_mask=True)
    (None, True)
    >>> mask, is_causal = kernel_mask(x, x, key_padding_mask=np.array([[1, 1, 0]]), use_causal_mask=True)
    >>> np.asarray(mask)[0, 0].astype(int).tolist(), is_causal
    ([[1, 0, 0], [1, 1, 0], [1, 1, 0]], False)
    """
    if (
        use_causal_mask
        and allow_is_causal
        and query_padding_mask is None
        and key_padding_mask is None
        and attention_mask is None
        and query.shape[1] is not None
        and query.shape[1] == key.shape[1]
    ):
        return None, True
    mask = build_attention_mask(
        ops.shape(query)[1],
        ops.shape(key)[1],
        query_padding_mask=query_padding_mask,
        key_padding_mask=key_padding_mask,
        attention_mask=attention_mask,
        use_causal_mask=use_causal_mask,
        cache_index=causal_start,
    )
    return add_head_axis(mask), False
