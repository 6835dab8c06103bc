import numpy as np
import pytest
from layer_checks import run_layer_checks

from applications.speech.speech_encoder import SpeechEncoder
from keras_attn.layers import LogMelSpectrogram

TINY = dict(hidden_dim=8, num_layers=2, num_heads=2, intermediate_dim=16, num_mel_bins=6, max_frames=16)


def test_layer_checks():
    features = np.random.default_rng(0).standard_normal((2, 9, 6)).astype("float32")
    run_layer_checks(SpeechEncoder, TINY, {"features": features}, expected_output_shape=(2, 5, 8))


@pytest.mark.parametrize(
    "override, message",
    [({"num_heads": 3}, "divisible"), ({"num_layers": 0}, "num_layers=0"), ({"dropout_rate": 1.0}, "dropout_rate")],
)
def test_rejects_bad_arguments(override, message):
    with pytest.raises(ValueError, match=message):
        SpeechEncoder(**{**TINY, **override})


def test_rejects_clips_longer_than_max_frames():
    encoder = SpeechEncoder(**TINY)
    with pytest.raises(ValueError, match="max_frames=16"):
        encoder(np.zeros((1, 17, 6), "float32"))


def test_any_length_up_to_max_frames():
    encoder = SpeechEncoder(**TINY)
    for frames in (1, 7, 16):
        assert encoder(np.zeros((1, frames, 6), "float32")).shape == (1, (frames + 1) // 2, 8)


def test_silence_padding_with_mask_leaves_output_unchanged():
    """Front end + encoder: a clip padded with silence and masked gives the real
    steps of the clip alone (the mask is carried through the stride)."""
    rng = np.random.default_rng(0)
    front_end = LogMelSpectrogram(num_mel_bins=6, fft_length=64, hop_length=32)
    encoder = SpeechEncoder(**{**TINY, "max_frames": 40})
    clip = rng.standard_normal((1, 500)).astype("float32")
    padded = np.concatenate([clip, np.zeros((1, 700), "float32")], axis=1)
    alone = np.asarray(encoder(front_end(clip)))
    lengths = np.array([500])
    features = front_end(padded, sample_lengths=lengths)
    mask = front_end.frame_padding_mask(lengths, features.shape[1])
    out = np.asarray(encoder(features, padding_mask=mask))
    real = int(np.asarray(encoder.output_lengths(front_end.frame_lengths(lengths)))[0])
    assert real == alone.shape[1]
    assert out.shape[1] > real
    np.testing.assert_allclose(out[:, :real], alone, atol=1e-5)
    # Without the mask the padding does leak in: the test would notice a lost mask.
    unmasked = np.asarray(encoder(features))
    assert np.abs(unmasked[:, :real] - alone).max() > 1e-3


def test_implicit_mask_equals_explicit_mask():
    import keras

    encoder = SpeechEncoder(**TINY)
    features = np.random.default_rng(1).standard_normal((2, 8, 6)).astype("float32")
    features[1, 5:] = 0.0
    mask = np.array([[True] * 8, [True] * 5 + [False] * 3])
    explicit = np.asarray(encoder(features, padding_mask=mask))
    masked_input = keras.layers.Masking(mask_value=0.0)(features)
    implicit = np.asarray(encoder(masked_input))
    np.testing.assert_allclose(implicit[0], explicit[0], atol=1e-5)
    np.testing.assert_allclose(implicit[1, :3], explicit[1, :3], atol=1e-5)


def test_attention_weights_are_distributions_over_real_steps():
    encoder = SpeechEncoder(**TINY)
    features = np.random.default_rng(2).standard_normal((1, 10, 6)).astype("float32")
    mask = np.arange(10)[None, :] < 6
    weights = np.asarray(encoder.attention_weights(features, padding_mask=mask, layer_index=0))
    assert weights.shape == (1, 2, 5, 5)
    np.testing.assert_allclose(weights.sum(-1)[..., :3], 1.0, atol=1e-5)
    assert np.all(weights[..., 3:] == 0.0)  # padded keys get no weight
