import keras
import numpy as np
import pytest

from applications.speech.whisper_sinusoids import WhisperSinusoids, whisper_sinusoids


def test_matches_whisper_formula():
    # whisper/model.py::sinusoids, written out with numpy.
    length, channels = 7, 10
    increment = np.log(10000) / (channels // 2 - 1)
    inverse = np.exp(-increment * np.arange(channels // 2))
    angles = np.arange(length)[:, None] * inverse[None, :]
    expected = np.concatenate([np.sin(angles), np.cos(angles)], axis=1)
    np.testing.assert_allclose(whisper_sinusoids(length, channels), expected, atol=1e-6)


def test_initializer_serializes():
    initializer = WhisperSinusoids(max_timescale=500)
    clone = keras.initializers.deserialize(keras.initializers.serialize(initializer))
    np.testing.assert_allclose(np.asarray(clone((3, 6))), whisper_sinusoids(3, 6, 500))


def test_rejects_odd_channels():
    with pytest.raises(ValueError, match="channels=5"):
        whisper_sinusoids(3, 5)
