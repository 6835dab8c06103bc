"""One Transformer encoder block: self-attention and feed-forward, each with a
residual connection and layer normalisation."""

import keras

from keras_attn import masking
from keras_attn.layers.transformer_block_base import TransformerBlockBase
from keras_attn.layers.transformer_block_base import head_size  # noqa: F401  (re-exported)


@keras.saving.register_keras_serializable(package="keras_attn")
class TransformerEncoderBlock(TransformerBlockBase):
    """Transformer encoder block, pre-norm (default) or post-norm.

    Pre-norm: `x + drop(attn(norm(x)))`, then `x + drop(ffn(norm(x)))`.
    Post-norm: `norm(x + drop(attn(x)))`, then `norm(x + drop(ffn(x)))`.

    Args:
        num_heads, intermediate_dim, dropout_rate, activation, norm_first,
        layer_norm_epsilon, attention_dropout_rate, stochastic_depth_rate,
        key_dim, num_key_value_heads, chunk_size, kernel_initializer, norm,
        use_bias, gated, rotary_max_wavelength, attention_scale: see
        `TransformerBlockBase` in `keras_attn/layers/transformer_block_base.py`.

    Call arguments:
        sequence: `(batch, length, width)`.
        padding_mask: `(batch, length)`, `True` on real tokens. Taken from the
            Keras implicit mask of `sequence` when not given.
        attention_mask: `(batch, length, length)`, `True` = may attend.
        attention_bias: float, broadcastable to `(batch, num_heads, length,
            length)`, added to the attention logits (e.g. from
            `RelativePositionBias`), or a `keras_attn.ops.BucketedBias`.
        return_attention_scores: also return the attention weights
            `(batch, num_heads, length, length)`.
        training: enables dropout and stochastic depth.

    Returns `(batch, length, width)`, or `(output, weights)` with
    `return_attention_scores=True`; the padding mask is passed on as the
    output's implicit mask. Padded keys never influence real positions.

    Subclasses change the attention by overriding `build_attention`.

    Example:

    >>> import numpy as np
    >>> block = TransformerEncoderBlock(num_heads=2, intermediate_dim=16)
    >>> block(np.ones((1, 4, 8), "float32")).shape
    TensorShape([1, 4, 8])
    """

    def build(self, sequence_shape):
        width = sequence_shape[-1]
        self.self_attention_layer = self.build_attention(width, "self_attention")
        self.self_attention_layer.build(sequence_shape, sequence_shape)
        self.self_attention_norm = self._build_layer_norm("self_attention_norm", sequence_shape)
        self.self_attention_dropout = self._build_dropout()
        self._build_feed_forward(sequence_shape)
        self.built = True

    def call(
        self,
        sequence,
        padding_mask=None,
        attention_mask=None,
        attention_bias=None,
        return_attention_scores=False,
        training=None,
    ):
        padding_mask = padding_mask if padding_mask is not None else masking.implicit_mask(sequence)
        x = masking.without_implicit_mask(sequence)  # (B, T, C)

        # Self-attention; padded keys are masked out.
        def self_attention(x):
            outputs = self.self_attention_layer(
                x, x, value_mask=padding_mask, attention_mask=attention_mask, attention_bias=attention_bias,
                return_attention_scores=return_attention_scores, training=training,
            )
            return outputs if return_attention_scores else (outputs, None)

        x, scores = self._residual(
            x, self_attention, self.self_attention_norm, self.self_attention_dropout, training
        )

        # Feed-forward.
        def feed_forward(x):
            return self.feed_forward(x, training=training), None

        x, _ = self._residual(x, feed_forward, self.feed_forward_norm, self.feed_forward_dropout, training)
        return (x, scores) if return_attention_scores else x

    def compute_output_shape(self, sequence_shape):
        return tuple(sequence_shape)
