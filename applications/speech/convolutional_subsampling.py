"""Whisper's convolutional stem: two 1-D convolutions with GELU, the second with stride 2."""

import keras
from keras import ops

from keras_attn import masking

STRIDE = 2  # 100 frames/s of 10 ms log-mels -> 50 encoder steps/s


@keras.saving.register_keras_serializable(package="applications.speech")
class ConvolutionalSubsampling(keras.layers.Layer):
    """`conv(k=3, pad 1) -> GELU -> conv(k=3, stride 2, pad 1) -> GELU`, mask-aware.

    The stem of Whisper's encoder (`whisper/model.py::AudioEncoder`): `T` input
    frames give `ceil(T / 2)` steps of width `hidden_dim`; output step `t`
    reads frames `2t - 1 ... 2t + 1` through the second convolution.

    Masking: with a padding mask, padded frames are set to zero before each
    convolution, exactly the zeros that the convolutions' own padding puts
    after the clip's real end. So the real output steps of a clip padded with
    anything equal those of the unpadded clip. The mask is carried through the
    stride with `keras_attn.masking.downsample_padding_mask` (step `t` is real
    when frame `2t` is): `L` real frames give `ceil(L / 2)` real steps
    (`output_lengths`). The Keras implicit mask is used when no mask is passed,
    and the output's implicit mask is the downsampled one.

    Args:
        hidden_dim: number of filters of both convolutions.
        kernel_initializer: initializer of both kernels.
        **kwargs: base `Layer` arguments.

    Call arguments:
        features: `(batch, frames, mel_bins)` log-mel features.
        padding_mask: optional `(batch, frames)` bool, `True` on real frames.

    Returns:
        `(batch, ceil(frames / 2), hidden_dim)`.

    References:
        Radford et al., "Robust Speech Recognition via Large-Scale Weak
        Supervision" (Whisper), 2022.

    Example:

    >>> import numpy as np
    >>> layer = ConvolutionalSubsampling(hidden_dim=8)
    >>> layer(np.zeros((2, 7, 4), "float32")).shape
    TensorShape([2, 4, 8])
    >>> np.asarray(layer.output_lengths(np.array([7, 2]))).tolist()
    [4, 1]
    """

    def __init__(self, hidden_dim, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(hidden_dim, int) or hidden_dim < 1:
            raise ValueError(f"`hidden_dim` must be a positive int. Received: hidden_dim={hidden_dim}")
        self.hidden_dim = hidden_dim
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = True

    def build(self, features_shape):
        self.conv_1 = keras.layers.Conv1D(
            self.hidden_dim, 3, padding="same", kernel_initializer=_clone(self.kernel_initializer),
            name="conv_1", dtype=self.dtype_policy,
        )
        self.conv_1.build(features_shape)
        self.conv_2 = keras.layers.Conv1D(
            self.hidden_dim, 3, strides=STRIDE, padding="valid",
            kernel_initializer=_clone(self.kernel_initializer),
            name="conv_2", dtype=self.dtype_policy,
        )
        self.conv_2.build((features_shape[0], None, self.hidden_dim))
        self.built = True

    def call(self, features, padding_mask=None):
        padding_mask = padding_mask if padding_mask is not None else masking.implicit_mask(features)
        x = masking.without_implicit_mask(features)  # (B, T, M)
        x = _zero_padded(x, padding_mask)
        x = keras.activations.gelu(self.conv_1(x), approximate=False)  # (B, T, C)
        x = _zero_padded(x, padding_mask)
        x = ops.pad(x, [(0, 0), (1, 1), (0, 0)])  # Whisper's padding=1 around the stride
        return keras.activations.gelu(self.conv_2(x), approximate=False)  # (B, ceil(T / 2), C)

    def output_lengths(self, frame_lengths):
        """`(batch,)` real frame counts -> `(batch,)` real output steps, `ceil(L / 2)`."""
        return ops.floor_divide(ops.cast(frame_lengths, "int32") + STRIDE - 1, STRIDE)

    def compute_mask(self, features, mask=None):
        return masking.downsample_padding_mask(mask, STRIDE)

    def compute_output_shape(self, features_shape):
        frames = features_shape[1]
        steps = None if frames is None else (frames + STRIDE - 1) // STRIDE
        return (features_shape[0], steps, self.hidden_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_dim": self.hidden_dim,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config


def _zero_padded(x, padding_mask):
    """Zero the padded frames of `x` (B, T, C); `x` itself without a mask."""
    if padding_mask is None:
        return x
    return ops.where(ops.expand_dims(ops.cast(padding_mask, "bool"), -1), x, ops.zeros_like(x))


def _clone(initializer):
    """A fresh copy, so two kernels never share one seeded initializer."""
    return initializer.__class__.from_config(initializer.get_config())
