"""Dot-product (Luong-style) attention without projections."""

import keras
from keras import ops

from keras_attn.layers.single_head_attention import SingleHeadAttention
from keras_attn.ops import scaled_dot_product_attention


@keras.saving.register_keras_serializable(package="keras_attn")
class ScaledDotProductAttention(SingleHeadAttention):
    """Dot-product attention of queries over keys/values, with no weights.

    `softmax(query key^T * scale) value`, one head, through
    `keras_attn.ops.scaled_dot_product_attention` (softmax in float32, exact
    zeros for a query with nothing to attend). With `scale=1.0` it equals
    `keras.layers.Attention(score_mode="dot", use_scale=False)`, masks included;
    the default scale is `1 / sqrt(dim)` (Vaswani et al.).

    Args:
        scale: logit scale; `None` means `1 / sqrt(dim)`.
        dropout_rate: dropout on the attention weights while training.
        chunk_size: if set, memory-efficient attention over blocks of this many
            positions (needs static lengths; no returned scores).
        seed: optional int seed for the dropout.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        query: `(batch, Tq, dim)`.
        value: `(batch, Tv, dim_v)`.
        key: `(batch, Tv, dim)`; defaults to `value`.
        query_mask: `(batch, Tq)`, `True` on real queries (filled from Keras
            implicit masks).
        value_mask: `(batch, Tv)`, `True` on real keys/values (filled from
            Keras implicit masks).
        use_causal_mask: query `i` may attend keys `j <= i`, as in Keras.
        return_attention_scores: also return the weights `(batch, Tq, Tv)`.
        training: enables dropout.
        mask: `[query_mask, value_mask]`, as for `keras.layers.Attention`.

    Returns:
        `(batch, Tq, dim_v)`, or `(output, weights)` with
        `return_attention_scores=True` (the same two paths as Keras).

    Masking: a masked query, or one whose keys are all masked, gets zeros (and
    zero weights, where Keras returns the unmasked row's weights for a masked
    query and uniform weights for a row with no key). The output carries the
    query's mask.

    References:
        - [Luong et al., 2015](https://arxiv.org/abs/1508.04025)
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)

    Example:

    >>> import numpy as np
    >>> query = np.array([[[1.0, 0.0]]], "float32")                 # (1, 1, 2)
    >>> value = np.array([[[1.0, 0.0], [0.0, 1.0]]], "float32")     # (1, 2, 2)
    >>> layer = ScaledDotProductAttention(scale=1.0)
    >>> output, weights = layer(query, value, return_attention_scores=True)
    >>> np.round(np.asarray(weights, "float64"), 3).tolist()
    [[[0.731, 0.269]]]
    >>> layer(query, value, value_mask=np.array([[False, True]])).numpy().tolist()
    [[[0.0, 1.0]]]
    """

    def __init__(self, scale=None, dropout_rate=0.0, chunk_size=None, seed=None, **kwargs):
        super().__init__(dropout_rate=dropout_rate, seed=seed, **kwargs)
        if scale is not None and not isinstance(scale, (int, float)):
            raise ValueError(f"`scale` must be a number or None. Received: scale={scale}")
        if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
            raise ValueError(f"`chunk_size` must be a positive int or None. Received: chunk_size={chunk_size}")
        self.scale = scale
        self.chunk_size = chunk_size
        self.built = True

    def _attend(self, query, key, value, mask, is_causal, training, return_weights):
        # One head: (B, T, D) -> (B, T, 1, D).
        result = scaled_dot_product_attention(
            ops.expand_dims(query, 2),
            ops.expand_dims(key, 2),
            ops.expand_dims(value, 2),
            mask=mask,
            is_causal=is_causal,
            scale=self.scale,
            dropout_rate=self.dropout_rate,
            training=training,
            seed=self.seed_generator,
            chunk_size=self.chunk_size,
            return_weights=return_weights,
        )
        if not return_weights:
            return ops.squeeze(result, 2)  # (B, Tq, Dv)
        output, weights = result
        return ops.squeeze(output, 2), ops.squeeze(weights, 1)  # (B, Tq, Dv), (B, Tq, Tv)

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale, "chunk_size": self.chunk_size})
        return config
