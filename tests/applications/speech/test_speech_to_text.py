"""`SpeechToText` and its `Transcriber`: cached decoding equals the full pass, beam width 1 is
greedy, the encoder padding mask keeps padding out of the logits, save/load, one compiled
program per shape."""

import keras
import numpy as np
import pytest

from applications.speech.speech_encoder import SpeechEncoder
from applications.speech.speech_to_text import SpeechToText
from applications.speech.transcriber import Transcriber
from applications.speech.transcript_tokenizer import END_ID, CharacterTokenizer
from keras_attn.layers import LogMelSpectrogram

MAX_SAMPLES, MAX_TARGET = 1200, 9
TOKENIZER = CharacterTokenizer("ab ")


def _model(ctc=False, seed=0):
    keras.utils.set_random_seed(seed)
    encoder = SpeechEncoder(16, 1, 2, 32, num_mel_bins=8, max_frames=40)
    front_end = LogMelSpectrogram(num_mel_bins=8, fft_length=64, hop_length=32)
    return SpeechToText(encoder, TOKENIZER.vocabulary_size, MAX_TARGET, decoder_layers=2, max_samples=MAX_SAMPLES,
                        front_end=front_end, ctc_characters="ab " if ctc else None)


@pytest.fixture(scope="module")
def model():
    return _model()


def _inputs(lengths=(1200, 600), seed=0):
    rng = np.random.default_rng(seed)
    audio = rng.standard_normal((len(lengths), MAX_SAMPLES)).astype("float32")
    for row, length in enumerate(lengths):
        audio[row, length:] = 0.0
    return {"audio": audio, "sample_lengths": np.asarray(lengths, "int32")}


IDS = np.array([[1, 3, 4, 5, 6, 4, END_ID, 0, 0], [1, 3, 5, 5, END_ID, 0, 0, 0, 0]], "int32")


def test_cached_decoding_equals_the_full_teacher_forced_pass(model):
    inputs = _inputs()
    full = np.asarray(model(dict(inputs, decoder_token_ids=IDS)))
    assert full.shape == (2, MAX_TARGET, TOKENIZER.vocabulary_size) and full.dtype == np.float32
    cached = np.asarray(Transcriber(model, TOKENIZER).cached_logits(inputs, IDS))
    np.testing.assert_allclose(cached, full, atol=1e-5)


def test_padding_a_clip_with_anything_leaves_its_logits_unchanged(model):
    clip = _inputs(lengths=(500,))["audio"][:, :500]
    alone = np.asarray(Transcriber(model, TOKENIZER).cached_logits({"audio": clip, "sample_lengths": [500]}, IDS[:1]))
    for padding in (np.zeros(700, "float32"), np.random.default_rng(3).standard_normal(700).astype("float32")):
        padded = {"audio": np.concatenate([clip, padding[None]], axis=1), "sample_lengths": np.array([500])}
        logits = np.asarray(model(dict(padded, decoder_token_ids=IDS[:1])))
        np.testing.assert_allclose(logits, alone, atol=1e-5)


def test_beam_width_one_equals_greedy_and_one_program_per_shape(model):
    transcriber = Transcriber(model, TOKENIZER)
    inputs = _inputs()
    greedy = np.asarray(transcriber.generate_ids(inputs))
    beam = np.asarray(transcriber.generate_ids(inputs, beam_width=1))
    np.testing.assert_array_equal(beam, greedy)
    assert greedy.shape == (2, MAX_TARGET) and greedy[:, :2].tolist() == [[1, 3], [1, 3]]  # the prompt
    compiled = np.asarray(transcriber.generate(inputs))
    np.testing.assert_array_equal(compiled, greedy)
    transcriber.generate(_inputs(seed=1))
    assert transcriber.compiled_function().experimental_get_tracing_count() == 1
    texts = transcriber.decode_ids(transcriber.generate_ids(inputs, beam_width=3))
    assert len(texts) == 2 and all(isinstance(text, str) for text in texts)


def test_save_load_with_a_ctc_head(tmp_path):
    hybrid = _model(ctc=True)
    inputs = dict(_inputs(), decoder_token_ids=IDS)
    outputs = hybrid(inputs)
    assert set(outputs) == {"logits", "ctc"} and tuple(outputs["ctc"].shape) == (2, 19, 4)
    hybrid.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    for key in ("logits", "ctc"):
        np.testing.assert_allclose(np.asarray(loaded(inputs)[key]), np.asarray(outputs[key]), atol=1e-6)
    np.testing.assert_array_equal(np.asarray(Transcriber(loaded, TOKENIZER).generate_ids(_inputs())),
                                  np.asarray(Transcriber(hybrid, TOKENIZER).generate_ids(_inputs())))


def test_bad_arguments():
    encoder = SpeechEncoder(8, 1, 2, 16, num_mel_bins=8, max_frames=11)
    with pytest.raises(ValueError, match="max_target_length"):
        SpeechToText(encoder, 10, max_target_length=1)
