"""One Transformer decoder block: masked self-attention, optional
cross-attention over an encoder sequence, feed-forward."""

import keras
from keras import ops

from keras_attn import masking
from keras_attn.layers.transformer_block_base import TransformerBlockBase


@keras.saving.register_keras_serializable(package="keras_attn")
class TransformerDecoderBlock(TransformerBlockBase):
    """Transformer decoder block, pre-norm (default) or post-norm.

    Args:
        num_heads, intermediate_dim, dropout_rate, activation, norm_first,
        layer_norm_epsilon, attention_dropout_rate, stochastic_depth_rate,
        key_dim, num_key_value_heads, chunk_size, kernel_initializer, norm,
        use_bias, gated, rotary_max_wavelength (self-attention only),
        attention_scale: see `TransformerBlockBase` in
        `keras_attn/layers/transformer_block_base.py`.

    Call arguments:
        decoder_sequence: `(batch, target_length, width)`.
        encoder_sequence: `(batch, source_length, encoder_width)` or `None`
            (decoder-only). The block must be built with it to cross-attend.
        decoder_padding_mask: `(batch, target_length)`; from the implicit mask
            of `decoder_sequence` when not given. With a self-attention cache
            it covers the whole cache, `(batch, max_length)`.
        decoder_attention_mask: `(batch, target_length, target_length)`.
        encoder_padding_mask: `(batch, source_length)`; from the implicit mask
            of `encoder_sequence` when not given.
        encoder_attention_mask: `(batch, target_length, source_length)`.
        use_causal_mask: target position `i` sees targets `<= i`.
        self_attention_cache: `(batch, 2, max_length, kv_heads, head_dim)`.
        self_attention_cache_update_index: where the new steps are written.
        cross_attention_cache: `(batch, 2, source_length, kv_heads,
            head_dim)` from `compute_cross_attention_cache`.
        self_attention_bias: float, broadcastable to `(batch, num_heads,
            target_length, key_length)`, added to the self-attention logits
            (`key_length` is `max_length` with a cache: the new queries'
            rows against the whole cache), or a `keras_attn.ops.BucketedBias`.
        cross_attention_bias: the same for cross-attention, `(..., target_length,
            source_length)`.
        return_attention_scores: also return a dict with the
            `"self_attention"` and `"cross_attention"` weights.
        training: enables dropout.

    Returns:
        `(batch, target_length, width)`. Two documented variants:
        - the cached decoding path (a `self_attention_cache` or
          `cross_attention_cache` is given) returns
          `(output, self_attention_cache, cross_attention_cache)`;
        - `return_attention_scores=True` returns `(output, scores_dict)`.
        Decoding one step at a time with the caches equals one full pass.

    Example:

    >>> import numpy as np
    >>> block = TransformerDecoderBlock(num_heads=2, intermediate_dim=16)
    >>> target, source = np.ones((1, 3, 8), "float32"), np.ones((1, 5, 8), "float32")
    >>> block(target, source).shape
    TensorShape([1, 3, 8])
    """

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        width = decoder_sequence_shape[-1]
        self.self_attention_layer = self.build_attention(width, "self_attention")
        self.self_attention_layer.build(decoder_sequence_shape, decoder_sequence_shape)
        self.self_attention_norm = self._build_layer_norm("self_attention_norm", decoder_sequence_shape)
        self.self_attention_dropout = self._build_dropout()
        self.cross_attention_layer = None
        if encoder_sequence_shape is not None:
            self.cross_attention_layer = self.build_attention(width, "cross_attention", cross_attention=True)
            self.cross_attention_layer.build(decoder_sequence_shape, encoder_sequence_shape)
            self.cross_attention_norm = self._build_layer_norm("cross_attention_norm", decoder_sequence_shape)
            self.cross_attention_dropout = self._build_dropout()
        self._build_feed_forward(decoder_sequence_shape)
        self.built = True

    def compute_cross_attention_cache(self, encoder_sequence):
        """Project the encoder sequence once: `(batch, 2, source_length, kv_heads, head_dim)`."""
        if self.cross_attention_layer is None:
            raise ValueError("This block was built without an encoder sequence; it has no cross-attention.")
        encoder_sequence = masking.without_implicit_mask(encoder_sequence)
        keys = self.cross_attention_layer.key_dense(encoder_sequence)
        values = self.cross_attention_layer.value_dense(encoder_sequence)
        return ops.stack([keys, values], axis=1)

    def call(
        self,
        decoder_sequence,
        encoder_sequence=None,
        decoder_padding_mask=None,
        decoder_attention_mask=None,
        encoder_padding_mask=None,
        encoder_attention_mask=None,
        use_causal_mask=True,
        self_attention_cache=None,
        self_attention_cache_update_index=None,
        cross_attention_cache=None,
        self_attention_bias=None,
        cross_attention_bias=None,
        return_attention_scores=False,
        training=None,
    ):
        cached = self_attention_cache is not None or cross_attention_cache is not None
        if return_attention_scores and cached:
            raise ValueError("`return_attention_scores` is not available on the cached decoding path.")
        if decoder_padding_mask is None:
            decoder_padding_mask = masking.implicit_mask(decoder_sequence)
        if encoder_sequence is not None and encoder_padding_mask is None:
            encoder_padding_mask = masking.implicit_mask(encoder_sequence)
        has_encoder = encoder_sequence is not None or cross_attention_cache is not None
        if has_encoder and self.cross_attention_layer is None:
            raise ValueError(
                "This block was built without an encoder sequence, so it cannot cross-attend. "
                "Call it with `encoder_sequence` the first time."
            )
        x = masking.without_implicit_mask(decoder_sequence)  # (B, T, C)
        scores = {}

        # Masked self-attention (keys from the cache when decoding step by step).
        def self_attention(x):
            outputs = self.self_attention_layer(
                x,
                x,
                value_mask=decoder_padding_mask,
                attention_mask=decoder_attention_mask,
                attention_bias=self_attention_bias,
                use_causal_mask=use_causal_mask,
                return_attention_scores=return_attention_scores,
                cache=self_attention_cache,
                cache_update_index=self_attention_cache_update_index,
                training=training,
            )
            return _split(outputs, return_attention_scores, self_attention_cache is not None)

        x, (self_scores, self_cache) = self._residual(
            x, self_attention, self.self_attention_norm, self.self_attention_dropout, training
        )
        scores["self_attention"] = self_scores

        # Cross-attention over the encoder sequence (or its cached projections).
        cross_cache = cross_attention_cache
        if has_encoder:
            source = None if encoder_sequence is None else masking.without_implicit_mask(encoder_sequence)

            def cross_attention(x):
                outputs = self.cross_attention_layer(
                    x,
                    source if source is not None else x,
                    value_mask=encoder_padding_mask,
                    attention_mask=encoder_attention_mask,
                    attention_bias=cross_attention_bias,
                    return_attention_scores=return_attention_scores,
                    cache=cross_attention_cache,
                    training=training,
                )
                return _split(outputs, return_attention_scores, cross_attention_cache is not None)

            x, (cross_scores, _) = self._residual(
                x, cross_attention, self.cross_attention_norm, self.cross_attention_dropout, training
            )
            scores["cross_attention"] = cross_scores

        # Feed-forward.
        x, _ = self._residual(
            x,
            lambda x: (self.feed_forward(x, training=training), None),
            self.feed_forward_norm,
            self.feed_forward_dropout,
            training,
        )

        if cached:
            return x, self_cache, cross_cache
        if return_attention_scores:
            return x, scores
        return x

    def compute_output_shape(self, decoder_sequence_shape, encoder_sequence_shape=None):
        return tuple(decoder_sequence_shape)


def _split(outputs, with_scores, with_cache):
    """MultiHeadAttention's outputs -> (output, (scores or None, cache or None))."""
    if not isinstance(outputs, tuple):
        return outputs, (None, None)
    output, rest = outputs[0], list(outputs[1:])
    scores = rest.pop(0) if with_scores else None
    cache = rest.pop(0) if with_cache else None
    return output, (scores, cache)
