import numpy as np
from layer_checks import run_layer_checks

from applications.speech.utterance_normalization import UtteranceNormalization


def test_layer_checks():
    features = np.random.default_rng(0).standard_normal((2, 6, 3)).astype("float32")
    run_layer_checks(UtteranceNormalization, {"epsilon": 1e-5}, {"features": features}, expected_output_shape=(2, 6, 3))


def test_real_frames_are_standardised_and_padding_is_ignored():
    rng = np.random.default_rng(0)
    features = rng.standard_normal((2, 8, 4)).astype("float32") * 3 + 5
    mask = np.array([[True] * 5 + [False] * 3, [True] * 8])
    out = np.asarray(UtteranceNormalization(epsilon=0.0)(features, padding_mask=mask))
    np.testing.assert_allclose(out[0, :5].mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(out[0, :5].std(axis=0), 1.0, atol=1e-4)
    assert np.all(out[0, 5:] == 0.0)
    changed = features.copy()
    changed[0, 5:] = 1e4  # anything in the padding
    np.testing.assert_allclose(np.asarray(UtteranceNormalization(epsilon=0.0)(changed, padding_mask=mask)), out,
                               atol=1e-5)


def test_a_gain_changes_nothing():
    """A gain adds a constant to every log-mel: normalisation removes it."""
    features = np.random.default_rng(1).standard_normal((1, 10, 4)).astype("float32")
    layer = UtteranceNormalization()
    np.testing.assert_allclose(np.asarray(layer(features + 0.7)), np.asarray(layer(features)), atol=1e-5)
