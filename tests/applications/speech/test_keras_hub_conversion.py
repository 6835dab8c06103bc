import keras
import keras_hub
import numpy as np
import pytest

from applications.speech.keras_hub_conversion import from_keras_hub_whisper
from applications.speech.speech_encoder import SpeechEncoder


@pytest.fixture(scope="module")
def backbone():
    keras.utils.set_random_seed(0)
    return keras_hub.models.WhisperBackbone(
        vocabulary_size=20, num_layers=2, num_heads=2, hidden_dim=16, intermediate_dim=32, num_mels=8,
        max_encoder_sequence_length=40, max_decoder_sequence_length=6,
    )


def _reference(backbone, features):
    batch = features.shape[0]
    outputs = backbone({
        "encoder_features": features,
        "decoder_token_ids": np.ones((batch, 6), "int32"),
        "decoder_padding_mask": np.ones((batch, 6), "int32"),
    })
    return np.asarray(outputs["encoder_sequence_output"])


@pytest.mark.parametrize("frames", [40, 33])
def test_outputs_equal_keras_hub_encoder(backbone, frames):
    features = np.random.default_rng(frames).standard_normal((2, frames, 8)).astype("float32")
    encoder = from_keras_hub_whisper(backbone)
    assert isinstance(encoder, SpeechEncoder)
    np.testing.assert_allclose(np.asarray(encoder(features)), _reference(backbone, features), atol=1e-4)


def test_every_weight_is_converted(backbone):
    """A fresh encoder is far from keras-hub's; the converted one holds all its weights."""
    features = np.random.default_rng(0).standard_normal((1, 40, 8)).astype("float32")
    fresh = SpeechEncoder(16, 2, 2, 32, num_mel_bins=8, max_frames=40)
    assert np.abs(np.asarray(fresh(features)) - _reference(backbone, features)).max() > 1e-2
    encoder = from_keras_hub_whisper(backbone)
    encoder_weights = sum(int(np.prod(w.shape)) for w in encoder.weights)
    whisper_encoder_weights = sum(
        int(np.prod(w.shape)) for layer in backbone.layers if "encoder" in layer.name for w in layer.weights
    )
    key_biases = 2 * 16  # our zero key bias, which Whisper lacks, per block
    assert encoder_weights == whisper_encoder_weights + key_biases


def test_converted_encoder_fine_tunes_with_dropout(backbone):
    encoder = from_keras_hub_whisper(backbone, dropout_rate=0.1)
    assert encoder.dropout_rate == 0.1


def test_train_init_from_a_keras_hub_preset_folder(backbone, keyword_data, tmp_path):
    """`--init keras_hub:<preset>` through the real command, offline on a saved preset folder."""
    import applications
    from applications.cli import main

    backbone.save_to_preset(str(tmp_path / "preset"))
    out = tmp_path / "run"
    assert main(["speech", "train", "--data", str(keyword_data[0]), "--out", str(out), "--init",
                 f"keras_hub:{tmp_path / 'preset'}", "--epochs", "1", "--batch-size", "8", "--max-seconds", "0.39",
                 "--strategy", "default"]) == 0
    encoder = applications.load(out).model.encoder
    assert (encoder.hidden_dim, encoder.num_mel_bins) == (16, 8)  # Whisper's encoder, with its mel bins
