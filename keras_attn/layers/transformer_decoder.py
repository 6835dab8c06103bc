"""A stack of `TransformerDecoderBlock`s with stacked key/value caches."""

import keras
from keras import ops

from keras_attn import masking
from keras_attn.layers.transformer_block_base import head_size
from keras_attn.layers.transformer_decoder_block import TransformerDecoderBlock
from keras_attn.layers.transformer_stack_base import TransformerStackBase


@keras.saving.register_keras_serializable(package="keras_attn")
class TransformerDecoder(TransformerStackBase):
    """`num_layers` decoder blocks; pre-norm stacks end with a layer norm.

    Args:
        num_layers, final_norm, and the block arguments (`num_heads`,
        `intermediate_dim`, ..., `chunk_size`, `stochastic_depth_rate`
        growing linearly from 0 at the first block): see `TransformerStackBase`
        in `keras_attn/layers/transformer_stack_base.py`.

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

    block_class = TransformerDecoderBlock

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

    def compute_output_shape(self, decoder_sequence_shape, encoder_sequence_shape=None):
        return tuple(decoder_sequence_shape)
