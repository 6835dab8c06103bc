"""The position-wise feed-forward network of a Transformer block, optionally gated."""

import keras


def _clone(initializer):
    """A fresh initializer per sublayer, so sublayers do not share random state."""
    return initializer.__class__.from_config(initializer.get_config())


@keras.saving.register_keras_serializable(package="keras_attn")
def gelu_approximate(x):
    """GELU with the tanh approximation (GPT-2's `gelu_new`, T5 v1.1's gated GELU).

    >>> round(float(gelu_approximate(1.0)), 4)
    0.8412
    """
    return keras.activations.gelu(x, approximate=True)


def get_activation(identifier):
    """A Keras activation (name, config or function), or `"gelu_approximate"`.

    Raises `ValueError` naming the activation when it is unknown.

    >>> get_activation("gelu_approximate").__name__
    'gelu_approximate'
    """
    if identifier == "gelu_approximate":
        return gelu_approximate
    try:
        return keras.activations.get(identifier)
    except ValueError as error:
        raise ValueError(f"Unknown activation. Received: activation={identifier!r}") from error


@keras.saving.register_keras_serializable(package="keras_attn")
class FeedForward(keras.layers.Layer):
    """Position-wise feed-forward network; the output has the input's size.

    Plain: `dropout(activation(x W1 + b1)) W2 + b2`.
    Gated (`gated=True`, GLU family: GEGLU with `"gelu"`, SwiGLU with
    `"silu"`): `dropout(activation(x W1) * (x W3)) W2`, with a third
    projection `W3` (`gate_dense`) of the same size as `W1`.

    Dropout acts on the hidden layer; dropout of the output is left to the
    residual connection around this layer.

    Args:
        intermediate_dim: size of the hidden layer.
        activation: activation of the hidden layer: a Keras activation or
            `"gelu_approximate"` (tanh approximation). Defaults to `"gelu"`.
        dropout_rate: dropout on the hidden layer while training. Defaults to `0.0`.
        gated: use the gated (GLU) form. Defaults to `False`.
        use_bias: whether the projections have biases. Defaults to `True`.
        kernel_initializer: initializer of the projection kernels.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `(..., dim)`.
        training: enables dropout.

    Returns:
        `(..., dim)`.

    Masking: the network is position-wise; an incoming Keras mask is passed
    through unchanged.

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
        - [Shazeer, 2020, GLU Variants Improve Transformer](https://arxiv.org/abs/2002.05202)

    Example:

    >>> import numpy as np
    >>> layer = FeedForward(intermediate_dim=16, gated=True, activation="silu")
    >>> layer(np.ones((2, 3, 8), "float32")).shape
    TensorShape([2, 3, 8])
    """

    def __init__(
        self,
        intermediate_dim,
        activation="gelu",
        dropout_rate=0.0,
        gated=False,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(intermediate_dim, int) or intermediate_dim < 1:
            raise ValueError(
                f"`intermediate_dim` must be a positive int. Received: intermediate_dim={intermediate_dim}"
            )
        if not 0.0 <= dropout_rate < 1.0:
            raise ValueError(f"`dropout_rate` must be in [0, 1). Received: dropout_rate={dropout_rate}")
        self.intermediate_dim = intermediate_dim
        self.activation = get_activation(activation)
        self.dropout_rate = dropout_rate
        self.gated = gated
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = True

    def _dense(self, units, name):
        return keras.layers.Dense(
            units,
            use_bias=self.use_bias,
            kernel_initializer=_clone(self.kernel_initializer),
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, input_shape):
        dim = input_shape[-1]
        if dim is None:
            raise ValueError(f"The last axis of the inputs must be known. Received: inputs.shape={tuple(input_shape)}")
        hidden_shape = tuple(input_shape[:-1]) + (self.intermediate_dim,)
        self.intermediate_dense = self._dense(self.intermediate_dim, "intermediate_dense")  # W1
        self.intermediate_dense.build(input_shape)
        if self.gated:
            self.gate_dense = self._dense(self.intermediate_dim, "gate_dense")  # W3
            self.gate_dense.build(input_shape)
        self.dropout = keras.layers.Dropout(self.dropout_rate, dtype=self.dtype_policy, name="dropout")
        self.output_dense = self._dense(dim, "output_dense")  # W2
        self.output_dense.build(hidden_shape)
        self.built = True

    def call(self, inputs, training=None):
        hidden = self.activation(self.intermediate_dense(inputs))  # (..., I)
        if self.gated:
            hidden = hidden * self.gate_dense(inputs)  # (..., I)
        hidden = self.dropout(hidden, training=training)
        return self.output_dense(hidden)  # (..., D)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "intermediate_dim": self.intermediate_dim,
                "activation": keras.activations.serialize(self.activation),
                "dropout_rate": self.dropout_rate,
                "gated": self.gated,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
