"""A stack of `TransformerDecoderBlock`s with stacked key/value caches."""

import keras
from keras import ops

from keras_attn import masking
from keras_attn.layers.transformer_block_base import head_size
from keras_attn.layers.transformer_decoder_block import TransformerDecoderBlock


@keras.saving.register_keras_serializable(package="keras_attn")
class TransformerDecoder(keras.layers.Layer):
    """`num_layers` decoder blocks; pre-norm stacks end with a layer norm.

    Args:
        num_layers: number of blocks; the other arguments as in
            `TransformerEncoder` and `TransformerDecoderBlock`.

    Call arguments:
        decoder_sequence, encoder_sequence, decoder_padding_mask,
        encoder_padding_mask, use_causal_mask, training: as in
            `TransformerDecoderBlock`.
        self_attention_cache: `(batch, num_layers, 2, max_length, kv_heads,
            head_dim)` from `initial_self_attention_cache`.
        self_attention_cache_update_index: position of the new steps.
        cross_attention_cache: `(batch, num_layers, 2, source_length,
            kv_heads, head_dim)` from `compute_cross_attention_cache`.

    Returns `(batch, target_length, width)`; the cached decoding path returns
    `(output, self_attention_cache, cross_attention_cache)` (the latter
    `None` for a decoder-only stack). Batch is axis 0 of every cache, so
    `keras_attn.generation` can reorder beams.

    Example:

    >>> import numpy as np
    >>> decoder = TransformerDecoder(num_layers=2, num_heads=2, intermediate_dim=16)
    >>> target, source = np.ones((1, 3, 8), "float32"), np.ones((1, 5, 8), "float32")
    >>> decoder(target, source).shape
    TensorShape([1, 3, 8])
    """

    def __init__(
        self,
        num_layers,
        num_heads,
        intermediate_dim,
        dropout_rate=0.0,
        activation="gelu",
        norm_first=True,
        layer_norm_epsilon=1e-5,
        attention_dropout_rate=0.0,
        key_dim=None,
        num_key_value_heads=None,
        kernel_initializer="glorot_uniform",
        final_norm=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"`num_layers` must be a positive int. Received: num_layers={num_layers}")
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout_rate = dropout_rate
        self.activation = activation
        self.norm_first = norm_first
        self.layer_norm_epsilon = layer_norm_epsilon
        self.attention_dropout_rate = attention_dropout_rate
        self.key_dim = key_dim
        self.num_key_value_heads = num_key_value_heads
        self.kernel_initializer = kernel_initializer
        self.final_norm = final_norm
        self.supports_masking = True
        self.blocks = [
            TransformerDecoderBlock(
                num_heads=num_heads,
                intermediate_dim=intermediate_dim,
                dropout_rate=dropout_rate,
                activation=activation,
                norm_first=norm_first,
                layer_norm_epsilon=layer_norm_epsilon,
                attention_dropout_rate=attention_dropout_rate,
                key_dim=key_dim,
                num_key_value_heads=num_key_value_heads,
                kernel_initializer=kernel_initializer,
                name=f"block_{i}",
                dtype=self.dtype_policy,
            )
            for i in range(num_layers)
        ]
        use_final_norm = norm_first if final_norm is None else final_norm
        self.output_norm = (
            keras.layers.LayerNormalization(epsilon=layer_norm_epsilon, name="output_norm", dtype=self.dtype_policy)
            if use_final_norm
            else None
        )

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        for block in self.blocks:
            block.build(decoder_sequence_shape, encoder_sequence_shape)
        if self.output_norm is not None:
            self.output_norm.build(decoder_sequence_shape)
        self._width = decoder_sequence_shape[-1]
        self.built = True

    def initial_self_attention_cache(self, batch_size, max_length):
        """Zeros `(batch, num_layers, 2, max_length, kv_heads, head_dim)`."""
        kv_heads = self.num_key_value_heads or self.num_heads
        dim = head_size(self._width, self.num_heads, self.key_dim)
        return ops.zeros((batch_size, self.num_layers, 2, max_length, kv_heads, dim), self.compute_dtype)

    def compute_cross_attention_cache(self, encoder_sequence):
        """Every block's projected encoder keys/values, computed once."""
        return ops.stack([block.compute_cross_attention_cache(encoder_sequence) for block in self.blocks], axis=1)

    def call(
        self,
        decoder_sequence,
        encoder_sequence=None,
        decoder_padding_mask=None,
        encoder_padding_mask=None,
        use_causal_mask=True,
        self_attention_cache=None,
        self_attention_cache_update_index=None,
        cross_attention_cache=None,
        training=None,
    ):
        if decoder_padding_mask is None:
            decoder_padding_mask = masking.implicit_mask(decoder_sequence)
        if encoder_sequence is not None and encoder_padding_mask is None:
            encoder_padding_mask = masking.implicit_mask(encoder_sequence)
        cached = self_attention_cache is not None or cross_attention_cache is not None
        x = masking.without_implicit_mask(decoder_sequence)
        source = None if encoder_sequence is None else masking.without_implicit_mask(encoder_sequence)
        new_self_caches = []
        for i, block in enumerate(self.blocks):
            outputs = block(
                x,
                source,
                decoder_padding_mask=decoder_padding_mask,
                encoder_padding_mask=encoder_padding_mask,
                use_causal_mask=use_causal_mask,
                self_attention_cache=None if self_attention_cache is None else self_attention_cache[:, i],
                self_attention_cache_update_index=self_attention_cache_update_index,
                cross_attention_cache=None if cross_attention_cache is None else cross_attention_cache[:, i],
                training=training,
            )
            if cached:
                x, block_cache, _ = outputs
                new_self_caches.append(block_cache)
            else:
                x = outputs
        if self.output_norm is not None:
            x = self.output_norm(x)
        if not cached:
            return x
        self_cache = None if self_attention_cache is None else ops.stack(new_self_caches, axis=1)
        return x, self_cache, cross_attention_cache

    def compute_mask(self, decoder_sequence, mask=None):
        return mask

    def compute_output_shape(self, decoder_sequence_shape, encoder_sequence_shape=None):
        return tuple(decoder_sequence_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                name: getattr(self, name)
                for name in (
                    "num_layers", "num_heads", "intermediate_dim", "dropout_rate", "activation",
                    "norm_first", "layer_norm_epsilon", "attention_dropout_rate", "key_dim",
                    "num_key_value_heads", "kernel_initializer", "final_norm",
                )
            }
        )
        return config
