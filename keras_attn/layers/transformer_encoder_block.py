"""One Transformer encoder block: self-attention and feed-forward, each with a
residual connection and layer normalisation."""

import keras

from keras_attn import masking
from keras_attn.layers.feed_forward import FeedForward
from keras_attn.layers.multi_head_attention import MultiHeadAttention
from keras_attn.layers.stochastic_depth import StochasticDepth


@keras.saving.register_keras_serializable(package="keras_attn")
class TransformerEncoderBlock(keras.layers.Layer):
    """Transformer encoder block, pre-norm (default) or post-norm.

    Pre-norm: `x + drop(attn(norm(x)))`, then `x + drop(ffn(norm(x)))`.
    Post-norm: `norm(x + drop(attn(x)))`, then `norm(x + drop(ffn(x)))`.

    Args:
        num_heads: attention heads; must divide the input width unless
            `key_dim` is given.
        intermediate_dim: width of the feed-forward hidden layer.
        dropout_rate: dropout on each residual branch (and inside the
            feed-forward network).
        activation: feed-forward activation.
        norm_first: pre-norm when True (ViT, Whisper, GPT-2), post-norm when
            False (the original Transformer).
        layer_norm_epsilon: epsilon of the layer norms.
        attention_dropout_rate: dropout on the attention weights.
        stochastic_depth_rate: probability of dropping each residual branch
            for a whole example during training (drop path).
        key_dim: size per head; defaults to `width // num_heads`.
        num_key_value_heads: grouped-query attention heads.
        chunk_size: memory-efficient attention block size.
        kernel_initializer: initializer of every dense kernel.

    Call arguments:
        sequence: `(batch, length, width)`.
        padding_mask: `(batch, length)`, `True` on real tokens. Taken from the
            Keras implicit mask of `sequence` when not given.
        attention_mask: `(batch, length, length)`, `True` = may attend.
        training: enables dropout and stochastic depth.

    Returns `(batch, length, width)`; the padding mask is passed on as the
    output's implicit mask. Padded keys never influence real positions.

    Subclasses change the attention by overriding `build_attention`.

    Example:

    >>> import numpy as np
    >>> block = TransformerEncoderBlock(num_heads=2, intermediate_dim=16)
    >>> block(np.ones((1, 4, 8), "float32")).shape
    TensorShape([1, 4, 8])
    """

    def __init__(
        self,
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
        **kwargs,
    ):
        super().__init__(**kwargs)
        _check_block_args(num_heads, intermediate_dim, dropout_rate, attention_dropout_rate, stochastic_depth_rate)
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
        self.supports_masking = True

    def build_attention(self, width, name):
        """The attention sublayer; override to swap in a variant."""
        return MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=head_size(width, self.num_heads, self.key_dim),
            num_key_value_heads=self.num_key_value_heads,
            dropout=self.attention_dropout_rate,
            chunk_size=self.chunk_size,
            kernel_initializer=self.kernel_initializer,
            name=name,
            dtype=self.dtype_policy,
        )

    def build(self, sequence_shape):
        width = sequence_shape[-1]
        self.self_attention_layer = self.build_attention(width, "self_attention")
        self.self_attention_layer.build(sequence_shape, sequence_shape)
        self.self_attention_norm = _layer_norm(self, "self_attention_norm", sequence_shape)
        self.self_attention_dropout = keras.layers.Dropout(self.dropout_rate, dtype=self.dtype_policy)
        self.feed_forward = FeedForward(
            self.intermediate_dim,
            activation=self.activation,
            dropout_rate=self.dropout_rate,
            kernel_initializer=self.kernel_initializer,
            name="feed_forward",
            dtype=self.dtype_policy,
        )
        self.feed_forward.build(sequence_shape)
        self.feed_forward_norm = _layer_norm(self, "feed_forward_norm", sequence_shape)
        self.feed_forward_dropout = keras.layers.Dropout(self.dropout_rate, dtype=self.dtype_policy)
        self.stochastic_depth = StochasticDepth(self.stochastic_depth_rate, dtype=self.dtype_policy)
        self.built = True

    def call(self, sequence, padding_mask=None, attention_mask=None, training=None):
        padding_mask = padding_mask if padding_mask is not None else masking.implicit_mask(sequence)
        x = masking.without_implicit_mask(sequence)  # (B, T, C)

        # Self-attention; padded keys are masked out.
        residual = x
        if self.norm_first:
            x = self.self_attention_norm(x)
        x = self.self_attention_layer(
            x, x, value_mask=padding_mask, attention_mask=attention_mask, training=training
        )
        x = self.stochastic_depth(self.self_attention_dropout(x, training=training), training=training)
        x = residual + x
        if not self.norm_first:
            x = self.self_attention_norm(x)

        # Feed-forward.
        residual = x
        if self.norm_first:
            x = self.feed_forward_norm(x)
        x = self.feed_forward(x, training=training)
        x = self.stochastic_depth(self.feed_forward_dropout(x, training=training), training=training)
        x = residual + x
        if not self.norm_first:
            x = self.feed_forward_norm(x)
        return x

    def compute_mask(self, sequence, mask=None):
        return mask

    def compute_output_shape(self, sequence_shape):
        return tuple(sequence_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "dropout_rate": self.dropout_rate,
                "activation": self.activation,
                "norm_first": self.norm_first,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "attention_dropout_rate": self.attention_dropout_rate,
                "stochastic_depth_rate": self.stochastic_depth_rate,
                "key_dim": self.key_dim,
                "num_key_value_heads": self.num_key_value_heads,
                "chunk_size": self.chunk_size,
                "kernel_initializer": self.kernel_initializer,
            }
        )
        return config


def head_size(width, num_heads, key_dim=None):
    """Per-head size: `key_dim`, or `width // num_heads` when that divides."""
    if key_dim is not None:
        return key_dim
    if width % num_heads:
        raise ValueError(
            "The model width must be divisible by `num_heads` (or pass `key_dim`). "
            f"Received: width={width}, num_heads={num_heads}"
        )
    return width // num_heads


def _layer_norm(block, name, shape):
    norm = keras.layers.LayerNormalization(
        epsilon=block.layer_norm_epsilon, name=name, dtype=block.dtype_policy
    )
    norm.build(shape)
    return norm


def _check_block_args(num_heads, intermediate_dim, dropout_rate, attention_dropout_rate, stochastic_depth_rate):
    """Shared argument checks of the encoder and decoder blocks."""
    for name, value in (("num_heads", num_heads), ("intermediate_dim", intermediate_dim)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` must be a positive int. Received: {name}={value}")
    for name, value in (
        ("dropout_rate", dropout_rate),
        ("attention_dropout_rate", attention_dropout_rate),
        ("stochastic_depth_rate", stochastic_depth_rate),
    ):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"`{name}` must be in [0, 1). Received: {name}={value}")
