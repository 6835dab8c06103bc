"""A stack of `TransformerEncoderBlock`s with an optional final layer norm."""

import keras

from keras_attn import masking
from keras_attn.layers.transformer_encoder_block import TransformerEncoderBlock


@keras.saving.register_keras_serializable(package="keras_attn")
class TransformerEncoder(keras.layers.Layer):
    """`num_layers` encoder blocks; pre-norm stacks end with a layer norm.

    Args:
        num_layers: number of blocks.
        num_heads, intermediate_dim, dropout_rate, activation, norm_first,
        layer_norm_epsilon, attention_dropout_rate, key_dim,
        num_key_value_heads, chunk_size, kernel_initializer: passed to every
            `TransformerEncoderBlock`.
        stochastic_depth_rate: the last block's drop-path rate; it grows
            linearly from 0 at the first block (Huang et al. 2016).
        final_norm: add a layer norm after the last block; defaults to
            `norm_first` (ViT, Whisper).

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
        stochastic_depth_rate=0.0,
        key_dim=None,
        num_key_value_heads=None,
        chunk_size=None,
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
        self.stochastic_depth_rate = stochastic_depth_rate
        self.key_dim = key_dim
        self.num_key_value_heads = num_key_value_heads
        self.chunk_size = chunk_size
        self.kernel_initializer = kernel_initializer
        self.final_norm = final_norm
        self.supports_masking = True
        self.blocks = [
            TransformerEncoderBlock(
                num_heads=num_heads,
                intermediate_dim=intermediate_dim,
                dropout_rate=dropout_rate,
                activation=activation,
                norm_first=norm_first,
                layer_norm_epsilon=layer_norm_epsilon,
                attention_dropout_rate=attention_dropout_rate,
                stochastic_depth_rate=stochastic_depth_rate * i / max(num_layers - 1, 1),
                key_dim=key_dim,
                num_key_value_heads=num_key_value_heads,
                chunk_size=chunk_size,
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

    def compute_mask(self, sequence, mask=None):
        return mask

    def compute_output_shape(self, sequence_shape):
        return tuple(sequence_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                name: getattr(self, name)
                for name in (
                    "num_layers", "num_heads", "intermediate_dim", "dropout_rate", "activation",
                    "norm_first", "layer_norm_epsilon", "attention_dropout_rate",
                    "stochastic_depth_rate", "key_dim", "num_key_value_heads", "chunk_size",
                    "kernel_initializer", "final_norm",
                )
            }
        )
        return config
