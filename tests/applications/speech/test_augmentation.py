import numpy as np
import pytest

from applications.speech import augmentation
from applications.speech import data as speech_data

RATE = 16000


def _tone(frequency=440.0, seconds=1.0):
    return (0.5 * np.sin(2 * np.pi * frequency * np.arange(int(seconds * RATE)) / RATE)).astype("float32")


def _peak_frequency(audio):
    audio = np.asarray(audio)
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return np.argmax(spectrum) * RATE / len(audio)


def test_speed_resamples_duration_and_pitch_together():
    faster = augmentation.resample(_tone(), 1.1)
    assert len(faster) == round(RATE / 1.1)
    assert abs(_peak_frequency(faster) - 484.0) < 3


def test_pitch_shift_keeps_the_duration():
    shifted = augmentation.pitch_shift(_tone(), 2.0)
    assert len(shifted) == RATE
    assert abs(_peak_frequency(shifted) - 440.0 * 2 ** (2 / 12)) < 3
    stretched = augmentation.time_stretch(_tone(), 0.8)
    assert len(stretched) == RATE / 0.8 and abs(_peak_frequency(stretched) - 440.0) < 3
    same = np.asarray(augmentation.time_stretch(_tone(), 1.0))
    np.testing.assert_allclose(same[600:-600], _tone()[600:-600], atol=5e-3)


def test_noise_snr_eq_and_reverb_power():
    clip = _tone()
    noisy = np.asarray(augmentation.add_noise(clip, 10.0, [1, 2]))
    snr = 10 * np.log10(np.mean(clip**2) / np.mean((noisy - clip) ** 2))
    assert abs(snr - 10.0) < 0.3
    noise = np.random.default_rng(0).standard_normal(RATE).astype("float32")
    coloured = np.asarray(augmentation.equalize(noise, 12.0, [5, 6]))
    np.testing.assert_allclose(np.mean(coloured**2), np.mean(noise**2), rtol=1e-3)
    gain_db = 20 * np.log10(np.abs(np.fft.rfft(coloured)) / np.abs(np.fft.rfft(noise)))
    assert gain_db.max() - gain_db.min() > 6.0  # coloured, smoothly: neighbouring bins move together
    assert np.abs(np.diff(gain_db)).max() < 0.5
    wet = np.asarray(augmentation.reverberate(clip, 0.4, [3, 4]))
    assert wet.shape == clip.shape
    np.testing.assert_allclose(np.mean(wet**2), np.mean(clip**2), rtol=1e-3)
    assert np.abs(wet - clip).max() > 0.01


def test_seeded_per_example_and_padding_kept():
    augment = augmentation.Augmentation("speed,pitch,gain,eq,noise,reverb", seed=7, probability=1.0)
    padded = np.pad(_tone(seconds=0.5), (0, 4000))
    first, length = augment.apply(padded, 8000, index=3)
    again, _ = augment.apply(padded, 8000, index=3)
    other, _ = augment.apply(padded, 8000, index=4)
    np.testing.assert_array_equal(np.asarray(first), np.asarray(again))
    assert not np.allclose(np.asarray(first), np.asarray(other))
    assert first.shape == padded.shape and 0 < int(length) <= len(padded)
    assert np.all(np.asarray(first)[int(length):] == 0.0)


def test_dataset_is_augmented_and_repeatable():
    audio, lengths = speech_data.pad_clips([_tone(seconds=0.3), _tone(300.0, seconds=0.4)], 8000)

    def first_batch():
        dataset = speech_data.make_dataset(audio, lengths, np.array([0, 1]), 2, augment=("gain", "noise"), seed=1)
        return next(iter(dataset))[0]

    batch, again = first_batch(), first_batch()
    np.testing.assert_array_equal(batch["audio"].numpy(), again["audio"].numpy())
    assert not np.allclose(batch["audio"].numpy(), audio)
    assert batch["audio"].shape == (2, 8000) and batch["sample_lengths"].numpy().tolist() == lengths.tolist()


def test_parse_augment():
    assert augmentation.parse_augment("reverb, eq, speed") == ("speed", "eq", "reverb")
    assert augmentation.parse_augment("none") == () == augmentation.parse_augment(None)
    with pytest.raises(ValueError, match="echo"):
        augmentation.parse_augment("speed,echo")
