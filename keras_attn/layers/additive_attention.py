"""Additive (Bahdanau-style) attention with its own query/key projections."""

import keras
from keras import ops

from keras_attn.layers.single_head_attention import SingleHeadAttention
from keras_attn.ops import scaled_dot_product_attention


def _clone(initializer):
    """A fresh initializer per weight, so weights do not share random state."""
    return initializer.__class__.from_config(initializer.get_config())


@keras.saving.register_keras_serializable(package="keras_attn")
class AdditiveAttention(SingleHeadAttention):
    """Additive attention: `score(q, k) = v . tanh(q W_q + k W_k + b)`.

    Queries and keys are projected to `units` (`query_dense`, `key_dense`;
    the one bias `b` sits in `query_dense`), combined through `tanh` and
    reduced by the learned vector `v` (`score_vector`). The weights
    `softmax(score)` over the keys average the values. Masking, the float32
    softmax, zeros for a query with nothing to attend and dropout are those of
    `keras_attn.ops.scaled_dot_product_attention`, which receives the scores as
    its bias. With `W_q = W_k = I`, no bias and `v` equal to Keras' `scale`, it
    equals `keras.layers.AdditiveAttention(use_scale=True)`.

    Scores are computed in float32; memory is `batch * Tq * Tv * units`.

    Args:
        units: size of the projections (and of `v`).
        use_bias: whether to add the bias `b`. Defaults to `True`.
        dropout_rate: dropout on the attention weights while training.
        kernel_initializer: initializer of `W_q`, `W_k` and `v`.
        seed: optional int seed for the dropout.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        query: `(batch, Tq, dim_q)`.
        value: `(batch, Tv, dim_v)`.
        key: `(batch, Tv, dim_k)`; defaults to `value`.
        query_mask: `(batch, Tq)`, `True` on real queries (filled from Keras
            implicit masks).
        value_mask: `(batch, Tv)`, `True` on real keys/values (filled from
            Keras implicit masks).
        use_causal_mask: query `i` may attend keys `j <= i`, as in Keras.
        return_attention_scores: also return the weights `(batch, Tq, Tv)`.
        training: enables dropout.
        mask: `[query_mask, value_mask]`, as for `keras.layers.Attention`.
        key_cache: `compute_key_cache(key)`: the keys projected once, for
            many calls over the same keys (a decoder attending to one source
            at every step; Bahdanau et al. precompute `U_a h_j` the same way).
            `key` is then not read.

    Returns:
        `(batch, Tq, dim_v)`, or `(output, weights)` with
        `return_attention_scores=True`.

    Masking: a masked query, or one whose keys are all masked, gets zeros
    (never NaN). The output carries the query's mask.

    References:
        - [Bahdanau et al., 2015](https://arxiv.org/abs/1409.0473)

    Example:

    >>> import numpy as np
    >>> layer = AdditiveAttention(units=4)
    >>> query = np.ones((2, 3, 5), "float32")
    >>> value = np.ones((2, 6, 8), "float32")
    >>> layer(query, value).shape
    TensorShape([2, 3, 8])
    >>> float(np.abs(layer(query, value, value_mask=np.zeros((2, 6), bool))).max())
    0.0
    >>> keys = layer.compute_key_cache(value)  # (2, 6, 4), once for many queries
    >>> bool(np.allclose(layer(query, value, key_cache=keys), layer(query, value)))
    True
    """

    query_key_same_dim = False
    projects_keys = True

    def __init__(
        self,
        units,
        use_bias=True,
        dropout_rate=0.0,
        kernel_initializer="glorot_uniform",
        seed=None,
        **kwargs,
    ):
        super().__init__(dropout_rate=dropout_rate, seed=seed, **kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"`units` must be a positive int. Received: units={units}")
        self.units = units
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        self._check_shapes(query_shape, value_shape, key_shape)
        self.query_dense = keras.layers.Dense(
            self.units,
            use_bias=self.use_bias,
            kernel_initializer=_clone(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="query_dense",
        )  # W_q, b
        self.query_dense.build(query_shape)
        self.key_dense = keras.layers.Dense(
            self.units,
            use_bias=False,
            kernel_initializer=_clone(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="key_dense",
        )  # W_k
        self.key_dense.build(key_shape)
        self.score_vector = self.add_weight(
            name="score_vector",
            shape=(self.units,),
            initializer=_clone(self.kernel_initializer),
            trainable=True,
        )  # v
        self.built = True

    def compute_key_cache(self, key):
        """The projected keys `key W_k`, `(batch, Tv, units)`, for `key_cache`.

        The layer must be built (called once, or `build`).
        """
        return self.key_dense(key)

    def _attend(self, query, key, value, mask, is_causal, training, return_weights, key_is_projected=False):
        projected_query = ops.cast(self.query_dense(query), "float32")  # (B, Tq, U)
        projected_key = ops.cast(key if key_is_projected else self.key_dense(key), "float32")  # (B, Tv, U)
        hidden = ops.tanh(projected_query[:, :, None, :] + projected_key[:, None, :, :])  # (B, Tq, Tv, U)
        scores = ops.einsum("bqku,u->bqk", hidden, ops.cast(self.score_vector, "float32"))  # (B, Tq, Tv)
        # The op computes softmax(q . k * scale + bias) v. With zero queries and
        # keys of one feature, its logits are exactly the additive scores, and
        # its masking, float32 softmax, zero rows and dropout apply unchanged.
        batch = ops.shape(query)[0]
        zeros_query = ops.zeros((batch, ops.shape(query)[1], 1, 1), "float32")
        zeros_key = ops.zeros((batch, ops.shape(key)[1], 1, 1), "float32")
        result = scaled_dot_product_attention(
            zeros_query,
            zeros_key,
            ops.expand_dims(value, 2),  # (B, Tv, 1, Dv)
            mask=mask,
            bias=scores[:, None],  # (B, 1, Tq, Tv)
            is_causal=is_causal,
            scale=1.0,
            dropout_rate=self.dropout_rate,
            training=training,
            seed=self.seed_generator,
            return_weights=return_weights,
        )
        if not return_weights:
            return ops.squeeze(result, 2)  # (B, Tq, Dv)
        output, weights = result
        return ops.squeeze(output, 2), ops.squeeze(weights, 1)  # (B, Tq, Dv), (B, Tq, Tv)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
