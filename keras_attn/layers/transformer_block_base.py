"""What the Transformer encoder and decoder blocks share: their arguments and
config, the attention override point, and the sublayer builders.

The argument list of `TransformerBlockBase.__init__` is the one definition of
the block arguments: `block_argument_names()` reads it, and the stacks
(`keras_attn/layers/transformer_stack_base.py`) accept, store, pass on and
save exactly those names.

Not public: use `TransformerEncoderBlock` or `TransformerDecoderBlock`.
"""

import inspect

import keras

from keras_attn.layers.feed_forward import FeedForward
from keras_attn.layers.feed_forward import get_activation
from keras_attn.layers.multi_head_attention import MultiHeadAttention
from keras_attn.layers.multi_head_attention import check_positive_or_none
from keras_attn.layers.stochastic_depth import StochasticDepth

NORMS = ("layer_norm", "rms_norm")


def head_size(width, num_heads, key_dim=None):
    """Per-head size: `key_dim`, or `width // num_heads` when that divides.

    >>> head_size(64, 4)
    16
    """
    if key_dim is not None:
        return key_dim
    if width % num_heads:
        raise ValueError(
            "The model width must be divisible by `num_heads` (or pass `key_dim`). "
            f"Received: width={width}, num_heads={num_heads}"
        )
    return width // num_heads


class TransformerBlockBase(keras.layers.Layer):
    """Arguments, validation, config and sublayer builders of a Transformer block.

    Args:
        num_heads: attention heads; must divide the input width unless
            `key_dim` is given.
        intermediate_dim: width of the feed-forward hidden layer.
        dropout_rate: dropout on each residual branch (and inside the
            feed-forward network).
        activation: feed-forward activation.
        norm_first: pre-norm when True (ViT, Whisper, GPT-2), post-norm when
            False (the original Transformer).
        layer_norm_epsilon: epsilon of the norms (layer or RMS).
        attention_dropout_rate: dropout on the attention weights.
        stochastic_depth_rate: probability of dropping each residual branch
            for a whole example during training (drop path).
        key_dim: size per head; defaults to `width // num_heads`.
        num_key_value_heads: grouped-query attention heads.
        chunk_size: memory-efficient attention block size.
        kernel_initializer: initializer of every dense kernel.
        norm: `"layer_norm"` (default, `keras.layers.LayerNormalization`) or
            `"rms_norm"` (`keras.layers.RMSNormalization`: no centring, no
            bias; T5, LLaMA). `layer_norm_epsilon` is its epsilon.
        use_bias: biases in the attention projections and the feed-forward
            network (`False` for T5). Norms are not affected.
        gated: gated feed-forward network (GEGLU with `activation="gelu"`,
            SwiGLU with `"silu"`; see `FeedForward`).
        rotary_max_wavelength: `None` (default) or an int: rotary position
            embeddings on the queries and keys of self-attention (RoPE), at
            the cache positions during cached decoding.
        attention_scale: logit scale of every attention sublayer; `None`
            (default) is `1 / sqrt(key_dim)`, T5 uses `1.0`.

    Activations are Keras names or functions, plus `"gelu_approximate"`
    (GELU with the tanh approximation: GPT-2, T5 v1.1).
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
        norm="layer_norm",
        use_bias=True,
        gated=False,
        rotary_max_wavelength=None,
        attention_scale=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
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
        if norm not in NORMS:
            raise ValueError(f"`norm` must be one of {NORMS}. Received: norm={norm}")
        get_activation(activation)  # raises ValueError for an unknown activation
        check_positive_or_none("rotary_max_wavelength", rotary_max_wavelength)
        check_positive_or_none("attention_scale", attention_scale)
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
        self.norm = norm
        self.use_bias = use_bias
        self.gated = gated
        self.rotary_max_wavelength = rotary_max_wavelength
        self.attention_scale = attention_scale
        self.supports_masking = True

    def build_attention(self, width, name, cross_attention=False):
        """An attention sublayer; override to swap in a variant.

        Rotary positions apply to self-attention only (`cross_attention=False`).
        """
        return MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=head_size(width, self.num_heads, self.key_dim),
            num_key_value_heads=self.num_key_value_heads,
            dropout=self.attention_dropout_rate,
            use_bias=self.use_bias,
            chunk_size=self.chunk_size,
            output_shape=width,
            kernel_initializer=self.kernel_initializer,
            scale=self.attention_scale,
            rotary_max_wavelength=None if cross_attention else self.rotary_max_wavelength,
            name=name,
            dtype=self.dtype_policy,
        )

    def _build_layer_norm(self, name, shape):
        norm = build_norm(self.norm, self.layer_norm_epsilon, name, self.dtype_policy)
        norm.build(shape)
        return norm

    def _build_dropout(self):
        return keras.layers.Dropout(self.dropout_rate, dtype=self.dtype_policy)

    def _build_feed_forward(self, shape):
        """The feed-forward sublayer, its norm and dropout, and the drop-path layer."""
        self.feed_forward = FeedForward(
            self.intermediate_dim,
            activation=get_activation(self.activation),
            dropout_rate=self.dropout_rate,
            gated=self.gated,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            name="feed_forward",
            dtype=self.dtype_policy,
        )
        self.feed_forward.build(shape)
        self.feed_forward_norm = self._build_layer_norm("feed_forward_norm", shape)
        self.feed_forward_dropout = self._build_dropout()
        self.stochastic_depth = StochasticDepth(self.stochastic_depth_rate, dtype=self.dtype_policy)

    def _residual(self, x, branch, norm, dropout, training):
        """`x + drop(branch(norm(x)))` (pre-norm) or `norm(x + drop(branch(x)))`.

        `branch` returns `(output, extra)`; `extra` (attention scores or a
        cache) is passed back unchanged.
        """
        residual = x
        if self.norm_first:
            x = norm(x)
        x, extra = branch(x)
        x = self.stochastic_depth(dropout(x, training=training), training=training)
        x = residual + x
        if not self.norm_first:
            x = norm(x)
        return x, extra

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config.update({name: getattr(self, name) for name in block_argument_names()})
        return config


def block_argument_names():
    """The block arguments, in order: the named parameters of `TransformerBlockBase.__init__`.

    >>> block_argument_names()[:3]
    ('num_heads', 'intermediate_dim', 'dropout_rate')
    """
    parameters = inspect.signature(TransformerBlockBase.__init__).parameters.values()
    return tuple(p.name for p in parameters if p.name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD)


def build_norm(norm, epsilon, name, dtype):
    """A `"layer_norm"` or `"rms_norm"` layer (not built)."""
    if norm == "rms_norm":
        return keras.layers.RMSNormalization(epsilon=epsilon, name=name, dtype=dtype)
    return keras.layers.LayerNormalization(epsilon=epsilon, name=name, dtype=dtype)
