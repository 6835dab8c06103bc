"""Rotary position embedding (RoPE, Su et al., 2021)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_attn")
class RotaryEmbedding(keras.layers.Layer):
    """Applies rotary position embeddings to a query or key tensor.

    The features are split into two halves `(x1, x2)`; pair `i` is the plane
    `(x1[i], x2[i])`, rotated at position `p` by the angle
    `p / scaling_factor * max_wavelength ** (-2i / dim)`. Because a rotation by
    `a` followed by the inverse of `b` is a rotation by `a - b`, the dot product
    of a rotated query at position `i` with a rotated key at position `j` depends
    on the positions only through `i - j`. The numbers equal
    `keras_hub.layers.RotaryEmbedding` (its default `rope_type="linear"`).

    Angles, sines and cosines are computed in float32; the rotation runs in the
    compute dtype.

    Args:
        max_wavelength: the longest wavelength. Defaults to `10000`.
        scaling_factor: positions are divided by this (linear position
            interpolation, to stretch a model to longer contexts). Defaults to `1.0`.
        sequence_axis: the axis of the positions. Defaults to `1`.
        feature_axis: the axis of the (even-sized) features. Defaults to `-1`.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: e.g. `(batch, sequence_length, heads, head_dim)` or
            `(batch, sequence_length, dim)`; every other axis is broadcast.
        start_index: int or scalar integer tensor, the position of the first
            step (for cached decoding). Defaults to `0`.

    Returns:
        The rotated tensor, same shape as `inputs`, in the compute dtype.

    Masking: an incoming Keras mask is passed through unchanged.

    References:
        - [Su et al., 2021, RoFormer](https://arxiv.org/abs/2104.09864)

    Example:

    >>> import numpy as np
    >>> x = np.array([[[1.0, 0.0], [1.0, 0.0]]], "float32")  # (1, 2, 2)
    >>> np.round(np.asarray(RotaryEmbedding()(x), "float64"), 3).tolist()
    [[[1.0, 0.0], [0.54, 0.841]]]
    """

    def __init__(self, max_wavelength=10000, scaling_factor=1.0, sequence_axis=1, feature_axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not max_wavelength or max_wavelength <= 0:
            raise ValueError(f"`max_wavelength` must be positive. Received: max_wavelength={max_wavelength}")
        if not scaling_factor or scaling_factor <= 0:
            raise ValueError(f"`scaling_factor` must be positive. Received: scaling_factor={scaling_factor}")
        for name, axis in (("sequence_axis", sequence_axis), ("feature_axis", feature_axis)):
            if not isinstance(axis, int):
                raise ValueError(f"`{name}` must be an int. Received: {name}={axis}")
        self.max_wavelength = max_wavelength
        self.scaling_factor = scaling_factor
        self.sequence_axis = sequence_axis
        self.feature_axis = feature_axis
        self.supports_masking = True
        self.built = True

    def _axes(self, shape):
        """`(sequence_axis, feature_axis)` as non-negative ints, validated against `shape`."""
        rank = len(shape)
        sequence_axis, feature_axis = self.sequence_axis, self.feature_axis
        sequence_axis += rank if sequence_axis < 0 else 0
        feature_axis += rank if feature_axis < 0 else 0
        if not (0 <= sequence_axis < rank and 0 <= feature_axis < rank) or sequence_axis == feature_axis:
            raise ValueError(
                "`sequence_axis` and `feature_axis` must be two different axes of the inputs. "
                f"Received: sequence_axis={self.sequence_axis}, feature_axis={self.feature_axis}, "
                f"inputs.shape={tuple(shape)}"
            )
        dim = shape[feature_axis]
        if dim is None or dim % 2:
            raise ValueError(
                "The feature axis must have a known, even size (features are rotated in pairs). "
                f"Received: inputs.shape={tuple(shape)}, feature_axis={self.feature_axis}"
            )
        return sequence_axis, feature_axis

    def call(self, inputs, start_index=0):
        sequence_axis, feature_axis = self._axes(inputs.shape)
        # Work on (batch..., T, other..., D): positions at axis 1, features last.
        x = ops.moveaxis(inputs, (sequence_axis, feature_axis), (1, -1))
        length, dim = ops.shape(x)[1], x.shape[-1]
        cos, sin = self._cos_sin(length, dim, start_index)  # (T, D) each
        # Broadcast (T, D) over every axis other than positions and features.
        broadcast_shape = [1] * len(x.shape)
        broadcast_shape[1], broadcast_shape[-1] = length, dim
        cos = ops.reshape(ops.cast(cos, self.compute_dtype), broadcast_shape)
        sin = ops.reshape(ops.cast(sin, self.compute_dtype), broadcast_shape)
        x = ops.cast(x, self.compute_dtype)
        first, second = ops.split(x, 2, axis=-1)
        rotated_half = ops.concatenate([-second, first], axis=-1)  # (-x2, x1)
        output = x * cos + rotated_half * sin
        return ops.moveaxis(output, (1, -1), (sequence_axis, feature_axis))

    def _cos_sin(self, length, dim, start_index):
        positions = ops.arange(length, dtype="float32") + ops.cast(start_index, "float32")
        exponents = ops.arange(0, dim, 2, dtype="float32") / float(dim)
        inverse_frequencies = ops.power(float(self.max_wavelength), -exponents) / float(self.scaling_factor)
        angles = positions[:, None] * inverse_frequencies[None, :]  # (T, D/2)
        angles = ops.concatenate([angles, angles], axis=-1)  # (T, D): pair i at i and i + D/2
        return ops.cos(angles), ops.sin(angles)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_wavelength": self.max_wavelength,
                "scaling_factor": self.scaling_factor,
                "sequence_axis": self.sequence_axis,
                "feature_axis": self.feature_axis,
            }
        )
        return config
