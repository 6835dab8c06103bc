"""A stack of `TransformerEncoderBlock`s with an optional final layer norm."""

import keras

from keras_attn import masking
from keras_attn.layers.transformer_encoder_block import TransformerEncoderBlock
from keras_attn.layers.transformer_stack_base import TransformerStackBase


@keras.saving.register_keras_serializable(package="keras_attn")
class TransformerEncoder(TransformerStackBase):
    """`num_layers` encoder blocks; pre-norm stacks end with a layer norm.

    Args:
        num_layers, final_norm, and the block arguments (`num_heads`,
        `intermediate_dim`, ..., `stochastic_depth_rate` growing linearly
        from 0 at the first block): see `TransformerStackBase` in
        `keras_attn/layers/transformer_stack_base.py`.

    Call arguments:
        sequence: `(batch, length, width)`.
        padding_mask: `(batch, length)`; the implicit mask when not given.
        attention_mask: `(batch, length, length)`.
        training: enables dropout.

    Example:

    >>> import numpy as np
    >>> encoder = TransformerEncoder(num_layers=2, num_heads=2, intermediate_dim=16)
    >>> encoder(np.ones((1, 4, 8), "float32")).shape
    TensorShape([1, 4, 8])
    """

    block_class = TransformerEncoderBlock

    def build(self, sequence_shape):
        for block in self.blocks:
            block.build(sequence_shape)
        if self.output_norm is not None:
            self.output_norm.build(sequence_shape)
        self.built = True

    def call(self, sequence, padding_mask=None, attention_mask=None, training=None):
        padding_mask = padding_mask if padding_mask is not None else masking.implicit_mask(sequence)
        x = masking.without_implicit_mask(sequence)
        for block in self.blocks:
            x = block(x, padding_mask=padding_mask, attention_mask=attention_mask, training=training)
        if self.output_norm is not None:
            x = self.output_norm(x)
        return x

    def compute_output_shape(self, sequence_shape):
        return tuple(sequence_shape)
