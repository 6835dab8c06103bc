"""What `TransformerEncoder` and `TransformerDecoder` share: arguments, blocks, final norm, config."""

import keras

# Arguments every block of a stack receives (stochastic depth: scaled per block).
BLOCK_ARGUMENTS = (
    "num_heads", "intermediate_dim", "dropout_rate", "activation", "norm_first", "layer_norm_epsilon",
    "attention_dropout_rate", "stochastic_depth_rate", "key_dim", "num_key_value_heads", "chunk_size",
    "kernel_initializer",
)


class TransformerStackBase(keras.layers.Layer):
    """`num_layers` blocks of `block_class`; pre-norm stacks end with a layer norm.

    Args:
        num_layers: number of blocks.
        num_heads, intermediate_dim, dropout_rate, activation, norm_first,
        layer_norm_epsilon, attention_dropout_rate, key_dim,
        num_key_value_heads, chunk_size, kernel_initializer: passed to every
            block (see `keras_attn.layers.transformer_block_base`).
        stochastic_depth_rate: the last block's drop-path rate; it grows
            linearly from 0 at the first block (Huang et al. 2016).
        final_norm: add a layer norm after the last block; defaults to
            `norm_first` (ViT, Whisper, GPT-2).

    Subclasses set `block_class` and write `call`.
    """

    block_class = None

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
        arguments = dict(
            num_heads=num_heads, intermediate_dim=intermediate_dim, dropout_rate=dropout_rate,
            activation=activation, norm_first=norm_first, layer_norm_epsilon=layer_norm_epsilon,
            attention_dropout_rate=attention_dropout_rate, stochastic_depth_rate=stochastic_depth_rate,
            key_dim=key_dim, num_key_value_heads=num_key_value_heads, chunk_size=chunk_size,
            kernel_initializer=kernel_initializer,
        )
        self.num_layers = num_layers
        for name, value in arguments.items():
            setattr(self, name, value)
        self.final_norm = final_norm
        self.supports_masking = True
        self.blocks = [
            self.block_class(
                **dict(arguments, stochastic_depth_rate=stochastic_depth_rate * i / max(num_layers - 1, 1)),
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

    def compute_mask(self, sequence, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config.update({name: getattr(self, name) for name in ("num_layers", *BLOCK_ARGUMENTS, "final_norm")})
        return config
