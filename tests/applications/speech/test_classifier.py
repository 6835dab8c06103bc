import keras
import numpy as np
import pytest

from applications.speech.classifier import SpeechClassifier
from applications.speech.speech_encoder import SpeechEncoder
from keras_attn.layers import LogMelSpectrogram, SpecAugment


def _model(**kwargs):
    keras.utils.set_random_seed(0)
    encoder = SpeechEncoder(8, 1, 2, 16, num_mel_bins=8, max_frames=30)
    front_end = LogMelSpectrogram(num_mel_bins=8, fft_length=64, hop_length=32)
    return SpeechClassifier(encoder, num_classes=3, max_samples=900, front_end=front_end,
                            class_names=["a", "b", "c"], **kwargs)


def test_padding_content_never_changes_the_probabilities():
    model = _model()
    rng = np.random.default_rng(0)
    audio = np.zeros((2, 900), "float32")
    audio[:, :500] = rng.standard_normal(500)  # the same clip in both rows
    audio[1, 500:] = 50 * rng.standard_normal(400)  # garbage after the true end
    out = np.asarray(model({"audio": audio, "sample_lengths": np.array([500, 500])}))
    np.testing.assert_allclose(out[0], out[1], atol=1e-5)
    np.testing.assert_allclose(out.sum(-1), 1.0, atol=1e-5)


def test_save_and_load_round_trip(tmp_path):
    model = _model(spec_augment=SpecAugment(time_mask_width=3, frequency_mask_width=2, seed=1), dropout_rate=0.1)
    inputs = {"audio": np.random.default_rng(1).standard_normal((2, 900)).astype("float32"),
              "sample_lengths": np.array([900, 300])}
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert isinstance(loaded, SpeechClassifier) and loaded.class_names == ["a", "b", "c"]
    np.testing.assert_allclose(np.asarray(loaded(inputs)), np.asarray(model(inputs)), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"num_classes": 1}, "num_classes=1"), ({"class_names": ["a"]}, "class_names"), ({"max_samples": 99999}, "max_frames=30")],
)
def test_rejects_bad_arguments(kwargs, message):
    encoder = SpeechEncoder(8, 1, 2, 16, num_mel_bins=8, max_frames=30)
    front_end = LogMelSpectrogram(num_mel_bins=8, fft_length=64, hop_length=32)
    arguments = {"num_classes": 3, "max_samples": 900, **kwargs}
    with pytest.raises(ValueError, match=message):
        SpeechClassifier(encoder, front_end=front_end, **arguments)
