"""The call contract shared by the single-head attention layers
(`ScaledDotProductAttention`, `AdditiveAttention`): inputs, masks, validation,
output shapes. Subclasses only say how queries meet keys (`_attend`)."""

import keras

from keras_attn import masking


class SingleHeadAttention(keras.layers.Layer):
    """Base of attention layers with `keras.layers.Attention`'s inputs and masks.

    Not used directly. A subclass implements
    `_attend(query, key, value, mask, is_causal, training, return_weights)` on
    rank-3 tensors and returns `(batch, Tq, dim_v)` (and `(batch, Tq, Tv)`
    weights when `return_weights`); `mask` is `None` or boolean, broadcastable
    to `(batch, 1, Tq, Tv)`, and `is_causal` asks for the causal pattern the
    mask left out.

    Call arguments (shared by subclasses):
        query: `(batch, Tq, dim)`.
        value: `(batch, Tv, dim_v)`.
        key: `(batch, Tv, dim_k)`; defaults to `value`.
        query_mask: `(batch, Tq)`, `True` on real queries; filled from the
            query's Keras implicit mask.
        value_mask: `(batch, Tv)`, `True` on real keys/values; filled from the
            value's Keras implicit mask.
        use_causal_mask: query `i` may attend keys `j <= i` (as in Keras).
        return_attention_scores: also return the weights `(batch, Tq, Tv)`.
        training: enables dropout on the weights.
        mask: `[query_mask, value_mask]`, the `keras.layers.Attention` form;
            combined (AND) with the two arguments above.
        key_cache: for layers that project their keys (`AdditiveAttention`):
            `compute_key_cache(key)`, the keys projected once and reused by
            every call over the same keys (a decoder attending to one source
            at every step); `key` is then not read.

    Masking: a query whose keys are all masked, or that is itself masked,
    returns zeros and zero weights. The output carries the query's mask.
    """

    # Whether `query` and `key` must share their last dimension (no projections).
    query_key_same_dim = True
    # Whether the layer projects its keys (and so accepts `key_cache`).
    projects_keys = False

    def __init__(self, dropout_rate=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(dropout_rate, (int, float)) or not 0.0 <= dropout_rate < 1.0:
            raise ValueError(f"`dropout_rate` must be in [0, 1). Received: dropout_rate={dropout_rate}")
        self.dropout_rate = dropout_rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def _check_shapes(self, query_shape, value_shape, key_shape):
        shapes = (
            f"Received: query.shape={tuple(query_shape)}, value.shape={tuple(value_shape)}, "
            f"key.shape={tuple(key_shape)}"
        )
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3:
                raise ValueError(f"`{name}` must have rank 3 (batch, sequence, features). {shapes}")
        if self.query_key_same_dim and None not in (query_shape[-1], key_shape[-1]) and query_shape[-1] != key_shape[-1]:
            raise ValueError(f"`query` and `key` must have the same last dimension. {shapes}")
        if None not in (key_shape[1], value_shape[1]) and key_shape[1] != value_shape[1]:
            raise ValueError(f"`key` and `value` must have the same length. {shapes}")
        batch_sizes = {shape[0] for shape in (query_shape, value_shape, key_shape)} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(f"`query`, `key` and `value` must have the same batch size. {shapes}")

    @staticmethod
    def _check_padding_mask(padding_mask, tensor, name, tensor_name):
        if padding_mask is None:
            return
        expected = tuple(tensor.shape[:2])
        got = tuple(padding_mask.shape)
        if len(got) != 2 or any(None not in (g, e) and g != e for g, e in zip(got, expected)):
            raise ValueError(
                f"`{name}` must have shape (batch, length) = {expected}. "
                f"Received: {name}.shape={got}, {tensor_name}.shape={tuple(tensor.shape)}"
            )

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
        mask=None,
        key_cache=None,
    ):
        key = self._key_or_cache(value, key, key_cache)
        self._check_shapes(query.shape, value.shape, key.shape)
        if mask is not None:
            if not isinstance(mask, (list, tuple)) or len(mask) != 2:
                raise ValueError(
                    "`mask` must be a list [query_mask, value_mask] (either may be None). "
                    f"Received: mask={mask}"
                )
            query_mask = masking.merge_masks(query_mask, mask[0])
            value_mask = masking.merge_masks(value_mask, mask[1])
        self._check_padding_mask(query_mask, query, "query_mask", "query")
        self._check_padding_mask(value_mask, value, "value_mask", "value")

        # The causal pattern alone, on equal lengths, goes to the kernel as
        # `is_causal`; otherwise one (B, 1, Tq, Tv) mask, causal from key 0 like Keras.
        attention_mask, causal_only = masking.kernel_mask(
            query, key, query_padding_mask=query_mask, key_padding_mask=value_mask,
            use_causal_mask=use_causal_mask,
        )
        return self._attend(
            query,
            key,
            value,
            mask=attention_mask,
            is_causal=causal_only,
            training=bool(training) and self.dropout_rate > 0.0,
            return_weights=return_attention_scores,
            **({} if key_cache is None else {"key_is_projected": True}),
        )

    def _key_or_cache(self, value, key, key_cache):
        """The keys `_attend` receives: `key_cache` (projected keys) when given, else `key` or `value`."""
        if key_cache is None:
            return value if key is None else key
        if not self.projects_keys:
            raise ValueError(
                f"{type(self).__name__} does not project its keys, so there is nothing to cache. "
                f"Received: key_cache.shape={tuple(key_cache.shape)}"
            )
        return key_cache

    def _attend(self, query, key, value, mask, is_causal, training, return_weights):
        raise NotImplementedError

    def compute_mask(self, inputs, previous_mask=None):
        # `previous_mask` is the `mask` argument ([query_mask, value_mask]) or,
        # without it, the query's implicit mask.
        if isinstance(previous_mask, (list, tuple)):
            return previous_mask[0] if previous_mask else None
        return previous_mask

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        return tuple(query_shape[:-1]) + (value_shape[-1],)

    def compute_output_spec(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
        mask=None,
        key_cache=None,
    ):
        key = self._key_or_cache(value, key, key_cache)
        self._check_shapes(query.shape, value.shape, key.shape)
        output = keras.KerasTensor(self.compute_output_shape(query.shape, value.shape), dtype=self.compute_dtype)
        if not return_attention_scores:
            return output
        weights = keras.KerasTensor(tuple(query.shape[:2]) + (key.shape[1],), dtype=self.compute_dtype)
        return output, weights

    def get_config(self):
        config = super().get_config()
        config.update({"dropout_rate": self.dropout_rate, "seed": self.seed})
        return config
