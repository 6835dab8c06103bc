import keras
import numpy as np

from applications.speech.ctc import CTCLoss
from applications.speech.ctc_recognizer import CTCRecognizer
from applications.speech.speech_encoder import SpeechEncoder
from keras_attn.layers import LogMelSpectrogram


def _model():
    keras.utils.set_random_seed(0)
    encoder = SpeechEncoder(8, 1, 2, 16, num_mel_bins=8, max_frames=30)
    front_end = LogMelSpectrogram(num_mel_bins=8, fft_length=64, hop_length=32)
    return CTCRecognizer(encoder, characters="ab ", max_samples=900, front_end=front_end)


def test_padded_steps_are_blanks_and_round_trip(tmp_path):
    model = _model()
    inputs = {"audio": np.random.default_rng(0).standard_normal((2, 900)).astype("float32"),
              "sample_lengths": np.array([900, 320])}
    log_probs = np.asarray(model(inputs))
    assert log_probs.shape == (2, 15, 4) and log_probs.dtype == np.float32
    real = 6  # 320 samples -> 11 frames -> 6 steps
    assert np.all(log_probs[1, real:, 0] == 0.0)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(inputs)), log_probs, atol=1e-6)
    assert loaded.transcribe(inputs) == model.transcribe(inputs)
    assert len(model.transcribe(inputs, beam_width=4)) == 2


def test_fits_under_xla():
    model = _model()
    model.compile(optimizer="adam", loss=CTCLoss(), jit_compile=True)
    inputs = {"audio": np.random.default_rng(0).standard_normal((2, 900)).astype("float32"),
              "sample_lengths": np.array([900, 600])}
    history = model.fit(inputs, np.array([[1, 2, 3], [2, 0, 0]]), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
