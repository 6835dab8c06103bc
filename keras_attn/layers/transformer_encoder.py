"""A stack of `TransformerEncoderBlock`s with an optional final norm and a shared position bias."""

import keras
from keras import ops

from keras_attn import masking
from keras_attn.layers.transformer_encoder_block import TransformerEncoderBlock
from keras_attn.layers.transformer_stack_base import TransformerStackBase


@keras.saving.register_keras_serializable(package="keras_attn")
class TransformerEncoder(TransformerStackBase):
    """`num_layers` encoder blocks; pre-norm stacks end with a norm.

    Args:
        num_layers, final_norm, position_bias, and the block arguments
        (`num_heads`, `intermediate_dim`, ..., `norm`, `use_bias`, `gated`,
        `rotary_max_wavelength`, `attention_scale`; `stochastic_depth_rate`
        growing linearly from 0 at the first block): see
        `TransformerStackBase` in `keras_attn/layers/transformer_stack_base.py`.
        A `position_bias` layer (e.g. `RelativePositionBias(num_heads)`,
        bidirectional) is computed once per call and shared by all blocks.

    Call arguments:
        sequence: `(batch, length, width)`.
        padding_mask: `(batch, length)`; the implicit mask when not given.
        attention_mask: `(batch, length, length)`.
        attention_bias: float, broadcastable to `(batch, num_heads, length,
            length)`, added to every block's attention logits (on top of
            the `position_bias`).
        return_attention_scores: also return every block's attention
            weights.
        training: enables dropout.

    Returns `(batch, length, width)`; with `return_attention_scores=True`,
    `(output, [weights (batch, num_heads, length, length) per block])`.

    Example:

    >>> import numpy as np
    >>> encoder = TransformerEncoder(num_layers=2, num_heads=2, intermediate_dim=16)
    >>> encoder(np.ones((1, 4, 8), "float32")).shape
    TensorShape([1, 4, 8])
    """

    block_class = TransformerEncoderBlock

    def build(self, sequence_shape):
        self._build_position_bias()
        for block in self.blocks:
            block.build(sequence_shape)
        if self.output_norm is not None:
            self.output_norm.build(sequence_shape)
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
        length = ops.shape(x)[1]
        bias = self._stack_bias(length, length, attention_bias=attention_bias)  # once for every block
        scores = []
        for block in self.blocks:
            x = block(
                x, padding_mask=padding_mask, attention_mask=attention_mask, attention_bias=bias,
                return_attention_scores=return_attention_scores, training=training,
            )
            if return_attention_scores:
                x, block_scores = x
                scores.append(block_scores)  # (B, H, T, T)
        if self.output_norm is not None:
            x = self.output_norm(x)
        return (x, scores) if return_attention_scores else x

    def compute_output_shape(self, sequence_shape):
        return tuple(sequence_shape)
