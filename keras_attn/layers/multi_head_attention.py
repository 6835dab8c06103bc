"""Multi-head attention with padding/causal masks, grouped-query heads, an
additive position bias, rotary positions and a key/value cache."""

import keras
from keras import ops

from keras_attn import masking
from keras_attn.layers.rotary_embedding import RotaryEmbedding
from keras_attn.ops import scaled_dot_product_attention
from keras_attn.ops.attention_route import validate_implementation


def _clone(initializer):
    """A fresh initializer per sublayer, so sublayers do not share random state."""
    return initializer.__class__.from_config(initializer.get_config())


def check_positive_or_none(name, value):
    """Raise `ValueError` unless `value` is `None` or a positive number (`scale`, `rotary_max_wavelength`)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
        raise ValueError(f"`{name}` must be a positive number or None. Received: {name}={value}")


@keras.saving.register_keras_serializable(package="keras_attn")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head attention, weight-compatible with `keras.layers.MultiHeadAttention`.

    For every configuration Keras also supports, the weights have the same
    shapes and order as Keras', so `layer.set_weights(keras_mha.get_weights())`
    reproduces its outputs. On top of Keras it adds grouped-query attention
    (`num_key_value_heads`), memory-efficient attention (`chunk_size`), a
    key/value cache for incremental decoding, an additive attention bias
    (T5's relative positions), rotary positions (`rotary_max_wavelength`), a
    settable logit `scale`, and exact zeros (not the mean of the values) for a
    query that may attend to nothing.

    Args:
        num_heads: number of query heads.
        key_dim: size of each query/key head.
        value_dim: size of each value head; defaults to `key_dim`.
        num_key_value_heads: number of key/value heads (grouped-query
            attention); must divide `num_heads`. Defaults to `num_heads`.
        dropout: dropout rate on the attention weights.
        use_bias: whether the projections have biases.
        output_shape: last dimension of the output; defaults to the query's.
        chunk_size: if set, use memory-efficient attention over blocks of this
            many positions (see `keras_attn.ops.scaled_dot_product_attention`).
        kernel_initializer, bias_initializer: initializers of the projections.
        seed: int seed for attention dropout.
        scale: logit scale; `None` (default) is `1 / sqrt(key_dim)`. T5 uses
            `1.0` (its query initialisation carries the scale).
        rotary_max_wavelength: `None` (default): no rotary positions; an int:
            rotary position embeddings (`keras_attn.layers.RotaryEmbedding`
            with this `max_wavelength`) on the projected queries and keys,
            at positions counted from `cache_update_index` on the cached path.
        implementation: `"auto"` (default), `"fused"` or `"blocked"`: which
            attention kernel runs (see `keras_attn.ops.scaled_dot_product_attention`);
            `"auto"` takes the backend's fused kernel on GPU and TPU and the
            CPU-tuned kernels on CPU.

    Call arguments:
        query: `(batch, target_length, query_dim)`.
        value: `(batch, source_length, value_input_dim)`.
        key: `(batch, source_length, key_input_dim)`; defaults to `value`.
        query_mask, value_mask, key_mask: `(batch, length)` padding masks,
            `True` on real positions; filled from Keras implicit masks.
        attention_mask: boolean `(batch, target_length, source_length)`.
        return_attention_scores: also return the weights
            `(batch, num_heads, target_length, source_length)`.
        training: enables attention dropout.
        use_causal_mask: query `i` may attend keys up to its own position.
        cache: `(batch, 2, max_length, num_key_value_heads, head_dim)` keys
            (index 0) and values (index 1), for incremental decoding.
        cache_update_index: where the new keys/values are written. With a
            cache and no index, the cache is used as is (cross-attention over
            encoder outputs projected once).
        attention_bias: float, broadcastable to `(batch, num_heads,
            target_length, source_length)`, added to the logits; on the cached
            path it covers the new queries against the whole cache. Or a
            `keras_attn.ops.BucketedBias` (e.g. from
            `RelativePositionBias.kernel_bias`), which `chunk_size` computes
            block by block.

    Returns:
        `(batch, target_length, output_dim)`; with `return_attention_scores`,
        `(output, scores)`. The cached path returns `(output, cache)` (and
        `(output, scores, cache)` with scores); it is documented separately in
        `TransformerDecoderBlock`.

    Masking: a query row whose keys are all masked returns zeros.

    References:
        Vaswani et al., "Attention Is All You Need", 2017.
        Ainslie et al., "GQA", 2023.

    Example:

    >>> import numpy as np
    >>> layer = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = np.random.rand(1, 3, 8).astype("float32")
    >>> layer(x, x, use_causal_mask=True).shape
    TensorShape([1, 3, 8])
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        num_key_value_heads=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        chunk_size=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        seed=None,
        scale=None,
        rotary_max_wavelength=None,
        implementation="auto",
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (("num_heads", num_heads), ("key_dim", key_dim)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive int. Received: {name}={value}")
        if value_dim is not None and (not isinstance(value_dim, int) or value_dim < 1):
            raise ValueError(f"`value_dim` must be a positive int or None. Received: value_dim={value_dim}")
        kv_heads = num_heads if num_key_value_heads is None else num_key_value_heads
        if not isinstance(kv_heads, int) or kv_heads < 1 or num_heads % kv_heads:
            raise ValueError(
                "`num_key_value_heads` must be a positive divisor of `num_heads`. "
                f"Received: num_heads={num_heads}, num_key_value_heads={num_key_value_heads}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={dropout}")
        if isinstance(output_shape, (tuple, list)):
            if len(output_shape) != 1:
                raise ValueError(
                    f"`output_shape` must be an int or a 1-tuple. Received: output_shape={output_shape}"
                )
            output_shape = output_shape[0]
        if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
            raise ValueError(f"`chunk_size` must be a positive int or None. Received: chunk_size={chunk_size}")
        check_positive_or_none("scale", scale)
        check_positive_or_none("rotary_max_wavelength", rotary_max_wavelength)
        validate_implementation(implementation)
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim
        self.num_key_value_heads = num_key_value_heads
        self.dropout = dropout
        self.use_bias = use_bias
        self.output_shape = output_shape
        self.chunk_size = chunk_size
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.seed = seed
        self.scale = scale
        self.rotary_max_wavelength = rotary_max_wavelength
        self.implementation = implementation
        self.supports_masking = True
        self._kv_heads = kv_heads
        self._value_dim = value_dim or key_dim
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _projection(self, name, heads, head_dim):
        return keras.layers.EinsumDense(
            "abc,cde->abde",
            output_shape=(None, heads, head_dim),
            bias_axes="de" if self.use_bias else None,
            kernel_initializer=_clone(self.kernel_initializer),
            bias_initializer=_clone(self.bias_initializer),
            name=name,
            dtype=self.dtype_policy,
        )

    def build(self, query_shape, value_shape=None, key_shape=None):
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        self._check_input_shapes(query_shape, value_shape, key_shape)
        output_dim = self.output_shape or query_shape[-1]
        # Same sublayers, names and build order as keras.layers.MultiHeadAttention.
        self.query_dense = self._projection("query", self.num_heads, self.key_dim)
        self.query_dense.build(query_shape)
        self.key_dense = self._projection("key", self._kv_heads, self.key_dim)
        self.key_dense.build(key_shape)
        self.value_dense = self._projection("value", self._kv_heads, self._value_dim)
        self.value_dense.build(value_shape)
        self.output_dense = keras.layers.EinsumDense(
            "abcd,cde->abe",
            output_shape=(None, output_dim),
            bias_axes="e" if self.use_bias else None,
            kernel_initializer=_clone(self.kernel_initializer),
            bias_initializer=_clone(self.bias_initializer),
            name="attention_output",
            dtype=self.dtype_policy,
        )
        self.output_dense.build((query_shape[0], query_shape[1], self.num_heads, self._value_dim))
        self.rotary = None
        if self.rotary_max_wavelength is not None:
            self.rotary = RotaryEmbedding(self.rotary_max_wavelength, name="rotary", dtype=self.dtype_policy)
        self.built = True

    def _check_input_shapes(self, query_shape, value_shape, key_shape):
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3:
                raise ValueError(
                    f"`{name}` must have rank 3 (batch, sequence, features). "
                    f"Received: {name}.shape={tuple(shape)}"
                )
        if None not in (key_shape[1], value_shape[1]) and key_shape[1] != value_shape[1]:
            raise ValueError(
                "`key` and `value` must have the same length. Received: "
                f"key.shape={tuple(key_shape)}, value.shape={tuple(value_shape)}"
            )

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
        cache=None,
        cache_update_index=None,
        attention_bias=None,
    ):
        if self.rotary is not None and cache is not None and cache_update_index is None:
            raise ValueError(
                "Rotary positions need `cache_update_index` with a cache (a cache used as is "
                f"holds keys of unknown positions). Received: rotary_max_wavelength={self.rotary_max_wavelength}"
            )
        if key is None:
            key = value
            key_mask = None  # the value's mask already covers the keys
        query_mask = query_mask if query_mask is not None else masking.implicit_mask(query)
        query = masking.without_implicit_mask(query)

        # Projections: (B, T, N, H) for queries, (B, S, K, H) for keys/values.
        projected_query = self.query_dense(query)
        if cache is not None and cache_update_index is None:
            # Cross-attention: keys/values were projected once into the cache.
            projected_key, projected_value = cache[:, 0], cache[:, 1]
        else:
            projected_key = self.key_dense(masking.without_implicit_mask(key))
            projected_value = self.value_dense(masking.without_implicit_mask(value))
            if self.rotary is not None:
                # Rotary positions: the new steps start at the cache index.
                start = 0 if cache is None else cache_update_index
                projected_query = self.rotary(projected_query, start_index=start)
                projected_key = self.rotary(projected_key, start_index=start)
            if cache is not None:
                # Self-attention decoding: write the new steps, attend to all.
                start = [0, ops.cast(cache_update_index, "int32"), 0, 0]
                projected_key = ops.slice_update(cache[:, 0], start, ops.cast(projected_key, cache.dtype))
                projected_value = ops.slice_update(cache[:, 1], start, ops.cast(projected_value, cache.dtype))
                cache = ops.stack([projected_key, projected_value], axis=1)

        # Masks, built in keras_attn.masking: (B, 1, T, S), or the bare causal flag.
        # Like Keras, a causal mask outside cached decoding starts at key 0.
        mask, causal_only = masking.kernel_mask(
            projected_query,
            projected_key,
            query_padding_mask=query_mask,
            key_padding_mask=masking.merge_masks(value_mask, key_mask),
            attention_mask=attention_mask,
            use_causal_mask=use_causal_mask,
            causal_start=cache_update_index if cache is not None else 0,
            allow_is_causal=cache is None,
        )

        attended = scaled_dot_product_attention(
            projected_query,
            projected_key,
            projected_value,
            mask=mask,
            bias=attention_bias,
            is_causal=causal_only,
            scale=self.scale,
            dropout_rate=self.dropout,
            training=bool(training) and self.dropout > 0.0,
            seed=self.seed_generator,
            chunk_size=self.chunk_size,
            return_weights=return_attention_scores,
            implementation=self.implementation,
        )
        if return_attention_scores:
            attended, scores = attended
        output = self.output_dense(attended)  # (B, T, output_dim)

        results = (output,)
        if return_attention_scores:
            results += (scores,)
        if cache is not None:
            results += (cache,)
        return results[0] if len(results) == 1 else results

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        return tuple(query_shape[:-1]) + (self.output_shape or query_shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "value_dim": self.value_dim,
                "num_key_value_heads": self.num_key_value_heads,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "output_shape": self.output_shape,
                "chunk_size": self.chunk_size,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "seed": self.seed,
                "scale": self.scale,
                "rotary_max_wavelength": self.rotary_max_wavelength,
                "implementation": self.implementation,
            }
        )
        return config
