"""Whisper's fixed sinusoidal position table, as a Keras initializer."""

import math

import keras
import numpy as np


def whisper_sinusoids(length, channels, max_timescale=10000):
    """`(length, channels)` float32 table: sines in the first half, cosines in the second.

    The table of `whisper/model.py::sinusoids`: channel `i < channels / 2` of
    position `p` is `sin(p * exp(-i * log(max_timescale) / (channels / 2 - 1)))`
    and channel `channels / 2 + i` is the cosine of the same angle.

    >>> whisper_sinusoids(3, 4).astype(float).round(3).tolist()
    [[0.0, 0.0, 1.0, 1.0], [0.841, 0.0, 0.54, 1.0], [0.909, 0.0, -0.416, 1.0]]
    """
    if channels % 2 or channels < 4:
        raise ValueError(f"`channels` must be even and at least 4. Received: channels={channels}")
    increment = math.log(max_timescale) / (channels // 2 - 1)
    inverse_timescales = np.exp(-increment * np.arange(channels // 2))
    angles = np.arange(length)[:, None] * inverse_timescales[None, :]  # (L, C/2)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1).astype("float32")


@keras.saving.register_keras_serializable(package="applications.speech")
class WhisperSinusoids(keras.initializers.Initializer):
    """Initializes a `(length, channels)` position table with `whisper_sinusoids`.

    Used by `SpeechEncoder` for its non-trainable `PositionEmbedding`, so the
    table is a weight that a converted Whisper checkpoint can overwrite.

    Args:
        max_timescale: the longest wavelength. Defaults to 10000.

    Example:

    >>> table = WhisperSinusoids()((2, 4))
    >>> tuple(table.shape)
    (2, 4)
    """

    def __init__(self, max_timescale=10000):
        if not max_timescale or max_timescale <= 1:
            raise ValueError(f"`max_timescale` must be > 1. Received: max_timescale={max_timescale}")
        self.max_timescale = max_timescale

    def __call__(self, shape, dtype=None):
        length, channels = shape
        table = whisper_sinusoids(length, channels, self.max_timescale)
        return keras.ops.convert_to_tensor(table, dtype=dtype or "float32")

    def get_config(self):
        return {"max_timescale": self.max_timescale}
