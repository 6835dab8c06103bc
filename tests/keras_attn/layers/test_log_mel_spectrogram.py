import os
import tempfile

import keras
import librosa
import numpy as np
import pytest
import tensorflow as tf

from keras_attn.layers import LogMelSpectrogram
from keras_attn.layers.log_mel_spectrogram import slaney_mel_filter_bank
from layer_checks import run_layer_checks

# Documented parity bound with librosa on the scaled log-mel (measured 2.6e-5 on CPU).
PARITY_ATOL = 1e-3
SR = 16000


def _speech_like(num_samples, seed=0):
    """A chirp plus a harmonic 'voice' with a moving pitch, bursts of noise and
    a silent gap: a real signal exercising the whole dynamic range."""
    rng = np.random.default_rng(seed)
    t = np.arange(num_samples) / SR
    chirp = 0.3 * np.sin(2 * np.pi * (100 * t + 0.5 * 3000 * t**2))
    pitch = 120 + 40 * np.sin(2 * np.pi * 1.5 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / SR
    voice = sum(0.2 / k * np.sin(k * phase) for k in range(1, 12))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2
    noise = 0.05 * rng.standard_normal(num_samples) * (np.sin(2 * np.pi * 2 * t) > 0.5)
    signal = chirp + envelope * voice + noise
    signal[num_samples // 3 : num_samples // 3 + 1600] = 0.0  # 100 ms of silence
    return signal.astype(np.float32)


def _librosa_log_mel(audio, sr=SR, n_fft=400, hop=160, n_mels=80, fmin=0.0, fmax=None, center=True):
    mel = librosa.feature.melspectrogram(
        y=audio, sr=sr, n_fft=n_fft, hop_length=hop, window="hann", center=center,
        pad_mode="reflect", power=2.0, n_mels=n_mels, fmin=fmin, fmax=fmax,
        htk=False, norm="slaney",
    )
    log_mel = np.log10(np.maximum(mel, 1e-10))
    log_mel = np.maximum(log_mel, log_mel.max() - 8.0)
    return ((log_mel + 4.0) / 4.0).T  # (frames, mels)


@pytest.mark.parametrize(
    "sr,n_fft,n_mels,fmin,fmax",
    [(16000, 400, 80, 0.0, None), (22050, 1024, 64, 50.0, 8000.0), (16000, 512, 128, 0.0, None)],
)
def test_filter_bank_matches_librosa(sr, n_fft, n_mels, fmin, fmax):
    ours = slaney_mel_filter_bank(sr, n_fft, n_mels, fmin, fmax)
    theirs = librosa.filters.mel(
        sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=False, norm="slaney"
    ).T
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-8)


def test_whisper_defaults_match_librosa():
    audio = np.stack([_speech_like(2 * SR, seed=0), _speech_like(2 * SR, seed=1)[::-1].copy()])
    layer = LogMelSpectrogram()
    out = np.asarray(layer(audio))
    assert out.shape == (2, 1 + 2 * SR // 160, 80)
    for i in range(2):
        expected = _librosa_log_mel(audio[i])
        assert expected.shape == out[i].shape
        assert np.max(np.abs(out[i] - expected)) < PARITY_ATOL


def test_non_default_settings_match_librosa():
    audio = _speech_like(8000)
    layer = LogMelSpectrogram(
        sample_rate=SR, fft_length=512, hop_length=128, num_mel_bins=40,
        fmin=60.0, fmax=7600.0, center=False,
    )
    out = np.asarray(layer(audio[None]))[0]
    expected = _librosa_log_mel(audio, n_fft=512, hop=128, n_mels=40, fmin=60.0, fmax=7600.0, center=False)
    assert out.shape == expected.shape == (1 + (8000 - 512) // 128, 40)
    assert np.max(np.abs(out - expected)) < PARITY_ATOL


def test_unscaled_unclamped_options():
    audio = _speech_like(3200)
    layer = LogMelSpectrogram(dynamic_range=None, whisper_scaling=False, log_floor=1e-6)
    out = np.asarray(layer(audio[None]))[0]
    mel = librosa.feature.melspectrogram(
        y=audio, sr=SR, n_fft=400, hop_length=160, window="hann", center=True,
        pad_mode="reflect", n_mels=80, htk=False, norm="slaney",
    ).T
    np.testing.assert_allclose(out, np.log10(np.maximum(mel, 1e-6)), atol=PARITY_ATOL)


def test_silence_padding_with_sample_lengths_leaves_real_frames_unchanged():
    clip = _speech_like(20000)
    expected = _librosa_log_mel(clip)  # the unpadded clip
    rng = np.random.default_rng(3)
    batch = np.stack(
        [
            np.concatenate([clip, np.zeros(12000, np.float32)]),  # silence padding
            np.concatenate([clip, rng.standard_normal(12000).astype(np.float32)]),  # loud junk
            _speech_like(32000, seed=4),
        ]
    )
    lengths = np.array([20000, 20000, 32000])
    layer = LogMelSpectrogram()
    out = np.asarray(layer(batch, sample_lengths=lengths))
    frames = np.asarray(layer.frame_lengths(lengths))
    assert frames.tolist() == [126, 126, 201]
    np.testing.assert_allclose(out[0, :126], expected, atol=PARITY_ATOL)
    # Whatever the padding holds, the outputs are identical, padded frames included.
    np.testing.assert_array_equal(out[0], out[1])
    # Padded frames hold the clamp floor, i.e. what silence gives.
    np.testing.assert_allclose(out[0, 126:], expected.min(), atol=PARITY_ATOL)
    # A full-length clip is unaffected by its neighbours' lengths.
    np.testing.assert_allclose(out[2], _librosa_log_mel(batch[2]), atol=PARITY_ATOL)
    # Full lengths give exactly the no-lengths result.
    full = np.full((3,), 32000)
    np.testing.assert_allclose(
        np.asarray(layer(batch, sample_lengths=full)), np.asarray(layer(batch)), atol=1e-6
    )


def test_frame_lengths_and_mask():
    layer = LogMelSpectrogram(fft_length=400, hop_length=160)
    lengths = np.array([0, 159, 160, 1600, 1759])
    assert np.asarray(layer.frame_lengths(lengths)).tolist() == [1, 1, 2, 11, 11]
    mask = np.asarray(layer.frame_padding_mask(lengths, 11))
    assert mask.shape == (5, 11) and mask.dtype == bool
    assert mask.sum(axis=1).tolist() == [1, 1, 2, 11, 11]
    assert mask[2].tolist() == [True, True] + [False] * 9
    # Agrees with librosa's frame count on the unpadded clip.
    for n in (400, 1000, 1601):
        assert layer.frame_lengths(np.array([n]))[0] == librosa.feature.melspectrogram(
            y=np.ones(n, np.float32), sr=SR, n_fft=400, hop_length=160
        ).shape[1]
    uncentred = LogMelSpectrogram(fft_length=400, hop_length=160, center=False)
    assert np.asarray(uncentred.frame_lengths(np.array([100, 400, 560, 1600]))).tolist() == [0, 1, 2, 8]
    assert layer.compute_mask(np.zeros((2, 1600), "float32")) is None


def test_output_shape_and_dynamic_length():
    layer = LogMelSpectrogram(num_mel_bins=16)
    assert layer.compute_output_shape((None, 1600)) == (None, 11, 16)
    assert layer.compute_output_shape((4, None)) == (4, None, 16)
    inputs = keras.Input(shape=(None,))
    lengths = keras.Input(shape=(), dtype="int32")
    outputs = layer(inputs, sample_lengths=lengths)
    assert tuple(outputs.shape) == (None, None, 16)
    model = keras.Model([inputs, lengths], outputs)
    audio = _speech_like(3200)[None]
    got = model.predict([audio, np.array([3200])], verbose=0)
    np.testing.assert_allclose(got, np.asarray(layer(audio)), atol=1e-5)


# The layer has no trainable weights; the XLA fit step still runs it.
_NO_TRAINABLE = pytest.mark.filterwarnings("ignore:The model does not have any trainable weights")


@_NO_TRAINABLE
def test_layer_checks_small():
    rng = np.random.default_rng(0)
    audio = rng.standard_normal((2, 1600)).astype("float32")
    run_layer_checks(
        LogMelSpectrogram,
        dict(fft_length=128, hop_length=64, num_mel_bins=16),
        {"audio": audio},
        expected_output_shape=(2, 26, 16),
        atol=1e-4,
    )


@_NO_TRAINABLE
def test_layer_checks_defaults_with_lengths():
    rng = np.random.default_rng(1)
    audio = rng.standard_normal((2, 1600)).astype("float32")
    run_layer_checks(
        LogMelSpectrogram,
        {},
        {"audio": audio, "sample_lengths": np.array([1600, 900], "int32")},
        expected_output_shape=(2, 11, 80),
        atol=1e-4,
    )


def test_filters_are_non_trainable_and_saved():
    layer = LogMelSpectrogram(fft_length=64, hop_length=32, num_mel_bins=8)
    layer.build((None, 320))
    assert layer.trainable_weights == []
    assert [w.name for w in layer.non_trainable_weights] == ["mel_filters"]
    np.testing.assert_allclose(
        layer.mel_filters.numpy(), slaney_mel_filter_bank(16000, 64, 8), atol=0
    )
    inputs = keras.Input(shape=(320,))
    model = keras.Model(inputs, layer(inputs))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.keras")
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
    restored = loaded.layers[-1]
    assert restored.trainable_weights == []
    np.testing.assert_array_equal(restored.mel_filters.numpy(), layer.mel_filters.numpy())


def test_mixed_float16_runs_in_float32():
    # Loud audio: the power spectrum (~1e8) overflows float16 (max 65504).
    audio = (20.0 * _speech_like(4800)).astype("float32")[None]
    full = LogMelSpectrogram()
    half = LogMelSpectrogram(dtype="mixed_float16")
    out = half(audio)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert keras.backend.standardize_dtype(half.mel_filters.dtype) == "float32"
    np.testing.assert_allclose(np.asarray(out, "float32"), np.asarray(full(audio)), atol=5e-3)


def test_jit_compiled_function_matches_eager():
    layer = LogMelSpectrogram()
    audio = _speech_like(4800)[None]
    lengths = np.array([3000], "int32")
    eager = np.asarray(layer(audio, sample_lengths=lengths))
    compiled = tf.function(lambda a, n: layer(a, sample_lengths=n), jit_compile=True)
    np.testing.assert_allclose(np.asarray(compiled(audio, lengths)), eager, atol=1e-4)


def test_bad_audio_rank():
    layer = LogMelSpectrogram()
    with pytest.raises(ValueError, match=r"audio.shape=\(1600,\)"):
        layer(np.zeros((1600,), "float32"))
    with pytest.raises(ValueError, match=r"audio.shape=\(2, 1600, 1\)"):
        layer(np.zeros((2, 1600, 1), "float32"))
    with pytest.raises(ValueError, match=r"audio.shape=\(2, 200\)"):
        layer(np.zeros((2, 200), "float32"))
    with pytest.raises(ValueError, match=r"audio.shape=\(2, 399\)"):
        LogMelSpectrogram(center=False)(np.zeros((2, 399), "float32"))
    assert LogMelSpectrogram()(np.zeros((1, 201), "float32")).shape == (1, 2, 80)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(fft_length=100, hop_length=160), "hop_length"),
        (dict(fft_length=0), "fft_length"),
        (dict(hop_length=-1), "hop_length"),
        (dict(num_mel_bins=0), "num_mel_bins"),
        (dict(sample_rate=0), "sample_rate"),
        (dict(fmax=9000.0), "fmax"),
        (dict(fmin=8000.0), "fmin"),
        (dict(fmin=-1.0), "fmin"),
        (dict(window="kaiser"), "window"),
        (dict(log_floor=0.0), "log_floor"),
        (dict(dynamic_range=-8.0), "dynamic_range"),
    ],
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        LogMelSpectrogram(**kwargs)
