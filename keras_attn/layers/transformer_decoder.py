"""A stack of `TransformerDecoderBlock`s with stacked key/value caches and a shared position bias."""

import keras
from keras import ops

from keras_attn import masking
from keras_attn.layers.transformer_block_base import head_size
from keras_attn.layers.transformer_decoder_block import TransformerDecoderBlock
from keras_attn.layers.transformer_stack_base import TransformerStackBase


@keras.saving.register_keras_serializable(package="keras_attn")
class TransformerDecoder(TransformerStackBase):
    """`num_layers` decoder blocks; pre-norm stacks end with a norm.

    Args:
        num_layers, final_norm, position_bias, and the block arguments
        (`num_heads`, `intermediate_dim`, ..., `chunk_size`, `norm`,
        `use_bias`, `gated`, `rotary_max_wavelength`, `attention_scale`;
        `stochastic_depth_rate` growing linearly from 0 at the first block):
        see `TransformerStackBase` in
        `keras_attn/layers/transformer_stack_base.py`. A `position_bias`
        layer (e.g. `RelativePositionBias(num_heads, bidirectional=False)`)
        is computed once per call for the self-attention of all blocks;
        during cached decoding only its rows for the new steps.

    Call arguments:
        decoder_sequence, encoder_sequence, decoder_padding_mask,
        encoder_padding_mask, use_causal_mask, training: as in
            `TransformerDecoderBlock`.
        self_attention_cache: `(batch, num_layers, 2, max_length, kv_heads,
            head_dim)` from `initial_self_attention_cache`.
        self_attention_cache_update_index: position of the new steps (one
            or several: a whole prompt can be written at index 0).
        cross_attention_cache: `(batch, num_layers, 2, source_length,
            kv_heads, head_dim)` from `compute_cross_attention_cache`.
        self_attention_bias, cross_attention_bias: float biases added to
            every block's self- / cross-attention logits (see
            `TransformerDecoderBlock`); the former on top of `position_bias`.
        return_attention_scores: also return every block's attention
            weights (not on the cached path).

    Returns `(batch, target_length, width)`. Two documented variants:
    - the cached decoding path returns `(output, self_attention_cache,
      cross_attention_cache)` (the latter `None` for a decoder-only stack).
      Batch is axis 0 of every cache, so `keras_attn.generation` can reorder
      beams;
    - `return_attention_scores=True` returns `(output, [{"self_attention":
      (batch, heads, target, target), "cross_attention": (batch, heads,
      target, source)} per block])` (no `"cross_attention"` without an
      encoder).

    Example:

    >>> import numpy as np
    >>> decoder = TransformerDecoder(num_layers=2, num_heads=2, intermediate_dim=16)
    >>> target, source = np.ones((1, 3, 8), "float32"), np.ones((1, 5, 8), "float32")
    >>> decoder(target, source).shape
    TensorShape([1, 3, 8])
    """

    block_class = TransformerDecoderBlock

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        self._build_position_bias()
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
        self_attention_bias=None,
        cross_attention_bias=None,
        return_attention_scores=False,
        training=None,
    ):
        if decoder_padding_mask is None:
            decoder_padding_mask = masking.implicit_mask(decoder_sequence)
        if encoder_sequence is not None and encoder_padding_mask is None:
            encoder_padding_mask = masking.implicit_mask(encoder_sequence)
        cached = self_attention_cache is not None or cross_attention_cache is not None
        if return_attention_scores and cached:
            raise ValueError("`return_attention_scores` is not available on the cached decoding path.")
        x = masking.without_implicit_mask(decoder_sequence)  # (B, T, C)
        source = None if encoder_sequence is None else masking.without_implicit_mask(encoder_sequence)
        # The self-attention bias, once for every block: with a cache, the new
        # steps' rows (from the cache index) against the whole cache.
        with_cache = self_attention_cache is not None
        self_bias = self._stack_bias(
            ops.shape(x)[1],
            ops.shape(self_attention_cache)[3] if with_cache else ops.shape(x)[1],
            self_attention_cache_update_index if with_cache else 0,
            self_attention_bias,
        )
        new_self_caches, scores = [], []
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
                self_attention_bias=self_bias,
                cross_attention_bias=cross_attention_bias,
                return_attention_scores=return_attention_scores,
                training=training,
            )
            if cached:
                x, block_cache, _ = outputs
                new_self_caches.append(block_cache)
            elif return_attention_scores:
                x, block_scores = outputs
                scores.append(block_scores)
            else:
                x = outputs
        if self.output_norm is not None:
            x = self.output_norm(x)
        if return_attention_scores:
            return x, scores
        if not cached:
            return x
        self_cache = None if self_attention_cache is None else ops.stack(new_self_caches, axis=1)
        return x, self_cache, cross_attention_cache

    def compute_output_shape(self, decoder_sequence_shape, encoder_sequence_shape=None):
        return tuple(decoder_sequence_shape)
