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


class _Prompt:
    """Whisper's prompt and end token, as a keras-hub WhisperTokenizer would give them."""

    prompt_ids, end_id, pad_id = (17, 18), 19, 19

    def decode(self, ids):
        return " ".join(str(i) for i in ids)


def test_whole_model_logits_equal_keras_hub_and_cached_decoding_equals_the_full_pass(backbone):
    from applications.speech.speech_to_text import SpeechToText
    from applications.speech.transcriber import Transcriber

    rng = np.random.default_rng(5)
    features = rng.standard_normal((2, 40, 8)).astype("float32")
    ids = rng.integers(0, 20, (2, 6)).astype("int32")
    outputs = backbone({"encoder_features": features, "decoder_token_ids": ids,
                        "decoder_padding_mask": np.ones((2, 6), "int32")})
    table = np.asarray(backbone.get_layer("decoder_token_and_position_embedding").token_embedding.embeddings)
    expected = np.asarray(outputs["decoder_sequence_output"]) @ table.T  # (B, T, V)

    model = from_keras_hub_whisper(backbone, decoder=True)
    assert isinstance(model, SpeechToText) and not model.audio_input
    logits = np.asarray(model({"encoder_features": features, "decoder_token_ids": ids}))
    assert logits.shape == (2, 6, 20)
    np.testing.assert_allclose(logits, expected, atol=1e-4)
    fresh = SpeechToText(SpeechEncoder(16, 2, 2, 32, num_mel_bins=8, max_frames=40), 20, 6, audio_input=False)
    assert np.abs(np.asarray(fresh({"encoder_features": features, "decoder_token_ids": ids})) - expected).max() > 1e-2

    transcriber = Transcriber(model, _Prompt())
    cached = np.asarray(transcriber.cached_logits({"encoder_features": features}, ids))
    np.testing.assert_allclose(cached, logits, atol=1e-5)
    tokens = np.asarray(transcriber.generate_ids({"encoder_features": features}))
    assert tokens.shape == (2, 6) and tokens[:, :2].tolist() == [[17, 18], [17, 18]]


def test_every_decoder_weight_is_converted(backbone):
    model = from_keras_hub_whisper(backbone, decoder=True)
    ours = sum(int(np.prod(w.shape)) for w in model.weights)
    theirs = sum(int(np.prod(w.shape)) for w in backbone.weights)
    key_biases = (2 + 2 * 2) * 16  # our zero key biases: encoder self-attention, decoder self and cross
    assert ours == theirs + key_biases


def _tiny_whisper_preset(folder):
    """A small random WhisperBackbone and a WhisperTokenizer of letters, saved as a keras-hub
    preset folder (what `--init keras_hub:<folder>` reads; no download)."""
    letters = list("abcdefghijklmnopqrstuvwxyz'")
    vocabulary = {token: index for index, token in enumerate(letters + ["Ġ" + c for c in letters] + ["Ġ"])}
    size = len(vocabulary)
    special = {token: size + i for i, token in enumerate(
        ["<|endoftext|>", "<|startoftranscript|>", "<|notimestamps|>", "<|translate|>", "<|transcribe|>"])}
    tokenizer = keras_hub.models.WhisperTokenizer(vocabulary=vocabulary, merges=["Ġ t"], special_tokens=special,
                                                  language_tokens={"<|en|>": size + 5})
    keras.utils.set_random_seed(1)
    backbone = keras_hub.models.WhisperBackbone(
        vocabulary_size=size + 6, num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32, num_mels=80,
        max_encoder_sequence_length=400, max_decoder_sequence_length=64)
    backbone.save_to_preset(str(folder))
    tokenizer.save_to_preset(str(folder))
    return folder


def test_init_from_a_whisper_preset_fine_tunes_the_whole_model_with_its_tokenizer(tmp_path, tone):
    import applications
    from applications import speech

    preset = _tiny_whisper_preset(tmp_path / "preset")
    for index, text in enumerate(["yes", "no", "yes no", "no"]):
        tone(tmp_path / f"c{index}.wav", seconds=0.3, frequency=300.0 + 100 * index)
    (tmp_path / "train.tsv").write_text("".join(f"c{i}.wav\t{t}\n" for i, t in enumerate(["yes", "no", "yes no", "no"])))
    speech.train(data=str(tmp_path / "train.tsv"), out=str(tmp_path / "run"), task="transcribe",
                 init=f"keras_hub:{preset}", epochs=1, batch_size=2, no_xla=True, plot=False, strategy="default",
                 verbose=0)
    predictor = applications.load(tmp_path / "run")
    tokenizer = predictor.tokenizer
    assert tokenizer.kind == "whisper" and tokenizer.prompt_ids[0] == tokenizer.start_id
    assert len(tokenizer.prompt_ids) == 4  # <|startoftranscript|> <|en|> <|transcribe|> <|notimestamps|>
    assert tokenizer.decode([*tokenizer.encode("yes no"), tokenizer.end_id]) == "yes no"
    assert predictor.model.decoder_embedding.vocabulary_size == backbone_vocabulary(preset)
    inputs = {"audio": np.zeros((1, predictor.max_samples), "float32"), "sample_lengths": np.array([4000])}
    assert isinstance(predictor.transcriber.decode_ids(predictor.transcriber.generate_ids(inputs))[0], str)


def backbone_vocabulary(preset):
    import json

    return json.loads((preset / "config.json").read_text())["config"]["vocabulary_size"]


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
