"""Stochastic depth (drop path) for residual branches."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_attn")
class StochasticDepth(keras.layers.Layer):
    """Drops a whole residual branch per example while training.

    Apply it to the branch, before the residual addition:
    `x + StochasticDepth(rate)(branch(x))`. While training, each example's
    branch is zeroed with probability `rate` and the kept ones are scaled by
    `1 / (1 - rate)`, so the expected output is unchanged; at inference it is
    the identity. The random draws come from a `keras.random.SeedGenerator`,
    so the layer works inside `jit_compile=True` functions and draws a new
    pattern at every step.

    Args:
        rate: probability of dropping the branch, in `[0, 1)`.
        seed: optional int seed of the layer's seed generator.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: the branch output, `(batch, ...)`.
        training: drop only when `True`.

    Returns:
        A tensor of the inputs' shape and dtype.

    Masking: an incoming Keras mask is passed through unchanged.

    References:
        - [Huang et al., 2016, Deep Networks with Stochastic Depth](https://arxiv.org/abs/1603.09382)

    Example:

    >>> import numpy as np
    >>> layer = StochasticDepth(rate=0.5, seed=1)
    >>> x = np.ones((4, 2), "float32")
    >>> np.asarray(layer(x)).tolist()  # inference: identity
    [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]
    >>> sorted(set(np.asarray(layer(x, training=True)).ravel().tolist())) in ([0.0, 2.0], [0.0], [2.0])
    True
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
            raise ValueError(f"`rate` must be a number in [0, 1). Received: rate={rate}")
        self.rate = rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        keep_probability = 1.0 - self.rate
        # One draw per example: (batch, 1, ..., 1).
        shape = (ops.shape(inputs)[0],) + (1,) * (len(inputs.shape) - 1)
        draws = keras.random.uniform(shape, seed=self.seed_generator)
        keep = ops.cast(ops.less(draws, keep_probability), inputs.dtype)
        return inputs * (keep / ops.cast(keep_probability, inputs.dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
