"""Fixed sine/cosine position encodings (Vaswani et al., 2017)."""

import keras
from keras import ops

from keras_attn.layers.explicit_positions import checked_positions


@keras.saving.register_keras_serializable(package="keras_attn")
class SinusoidalPositionEncoding(keras.layers.Layer):
    """Sinusoidal position encoding, to be added to token embeddings.

    Feature `2i` of position `p` is `sin(p / max_wavelength ** (2i / dim))` and
    feature `2i + 1` is `cos(p / max_wavelength ** (2i / dim))`. The layer has no
    weights and returns the encoding only; the caller adds it to its inputs. It
    gives the same numbers as `keras_hub.layers.SinePositionEncoding`. Angles are
    computed in float32 and the result is cast to the layer's compute dtype, so
    large positions stay accurate under `mixed_float16`.

    Args:
        max_wavelength: The longest wavelength of the sine/cosine curves.
            Defaults to `10000`.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `(batch, sequence_length, dim)`; only its shape is used.
        start_index: int or scalar integer tensor, the position of the first
            step (for cached decoding). Defaults to `0`.
        positions: instead of `start_index`, the position of every step:
            integers `(sequence_length,)` or `(batch, sequence_length)`
            (as keras-hub's `SinePositionEncoding`).

    Returns:
        The encoding, `(batch, sequence_length, dim)` in the compute dtype.

    Masking: the encoding does not depend on padding; an incoming Keras mask is
    passed through unchanged.

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)

    Example:

    >>> import numpy as np
    >>> layer = SinusoidalPositionEncoding()
    >>> encoding = layer(np.zeros((1, 3, 4), "float32"))
    >>> np.round(np.asarray(encoding, "float64")[0], 3).tolist()
    [[0.0, 1.0, 0.0, 1.0], [0.841, 0.54, 0.01, 1.0], [0.909, -0.416, 0.02, 1.0]]
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        if not max_wavelength or max_wavelength <= 0:
            raise ValueError(
                f"`max_wavelength` must be positive. Received: max_wavelength={max_wavelength}"
            )
        self.max_wavelength = max_wavelength
        self.supports_masking = True
        self.built = True

    def call(self, inputs, start_index=0, positions=None):
        if len(inputs.shape) < 2:
            raise ValueError(
                "`inputs` must have shape (batch, sequence_length, dim). "
                f"Received: inputs.shape={tuple(inputs.shape)}"
            )
        shape = ops.shape(inputs)
        sequence_length, dim = shape[-2], shape[-1]
        # (T,) positions and (D,) inverse frequencies, both float32.
        if positions is None:
            positions = ops.arange(sequence_length, dtype="float32") + ops.cast(start_index, "float32")
        else:
            positions = ops.cast(checked_positions(positions, inputs, start_index), "float32")  # (T,) | (B, T)
        exponents = ops.cast(2 * (ops.arange(dim) // 2), "float32") / ops.cast(dim, "float32")
        inverse_frequencies = ops.power(1.0 / float(self.max_wavelength), exponents)
        angles = positions[..., None] * inverse_frequencies  # (T, D) or (B, T, D)
        # Even features are sines, odd features cosines.
        is_even = ops.equal(ops.arange(dim) % 2, 0)
        encoding = ops.where(is_even, ops.sin(angles), ops.cos(angles))
        return ops.broadcast_to(ops.cast(encoding, self.compute_dtype), shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"max_wavelength": self.max_wavelength})
        return config
