import keras
import numpy as np
import pytest

from keras_attn.layers.sinusoidal_position_encoding import SinusoidalPositionEncoding
from layer_checks import run_layer_checks


def test_generic_layer_checks():
    inputs = {"inputs": np.random.default_rng(0).normal(size=(2, 5, 6)).astype("float32")}
    run_layer_checks(
        SinusoidalPositionEncoding,
        {"max_wavelength": 100},
        inputs,
        expected_output_shape=(2, 5, 6),
    )


@pytest.mark.parametrize("max_wavelength", [10000, 50])
@pytest.mark.parametrize("start_index", [0, 7])
def test_matches_keras_hub(max_wavelength, start_index):
    import keras_hub

    inputs = np.zeros((2, 9, 10), "float32")
    ours = SinusoidalPositionEncoding(max_wavelength=max_wavelength)(inputs, start_index=start_index)
    theirs = keras_hub.layers.SinePositionEncoding(max_wavelength=max_wavelength)(
        inputs, start_index=start_index
    )
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), atol=1e-5)


def test_formula_exact_numbers():
    dim, length, wavelength = 6, 4, 10000.0
    encoding = np.asarray(SinusoidalPositionEncoding()(np.zeros((1, length, dim), "float32")))[0]
    positions = np.arange(length)[:, None]
    pair = np.arange(dim) // 2
    angles = positions / wavelength ** (2 * pair / dim)
    expected = np.where(np.arange(dim) % 2 == 0, np.sin(angles), np.cos(angles))
    np.testing.assert_allclose(encoding, expected, atol=1e-6)


def test_start_index_continues_the_sequence():
    layer = SinusoidalPositionEncoding()
    full = np.asarray(layer(np.zeros((1, 8, 4), "float32")))
    step = np.asarray(layer(np.zeros((1, 1, 4), "float32"), start_index=5))
    np.testing.assert_allclose(step[0, 0], full[0, 5], atol=1e-6)
    # A tensor start index works as well (as in a compiled decoding loop).
    step = np.asarray(layer(np.zeros((1, 3, 4), "float32"), start_index=keras.ops.convert_to_tensor(5)))
    np.testing.assert_allclose(step[0], full[0, 5:8], atol=1e-6)


def test_large_positions_accurate_in_float16():
    layer = SinusoidalPositionEncoding(dtype="mixed_float16")
    out = layer(np.zeros((1, 4, 8), "float16"), start_index=3000)
    reference = SinusoidalPositionEncoding()(np.zeros((1, 4, 8), "float32"), start_index=3000)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    # float16 rounding of the result only (angles computed in float32).
    np.testing.assert_allclose(np.asarray(out, "float32"), np.asarray(reference), atol=1e-3)


def test_passes_an_implicit_mask_through():
    ids = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(ids)
    encoding = SinusoidalPositionEncoding()(embedded)
    assert encoding._keras_mask is not None


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="max_wavelength"):
        SinusoidalPositionEncoding(max_wavelength=0)
    with pytest.raises(ValueError, match="inputs.shape"):
        SinusoidalPositionEncoding()(np.zeros((3,), "float32"))


@pytest.mark.parametrize("positions", [np.arange(7, 16), np.array([[3, 1, 4, 1, 5, 9, 2, 6, 5], list(range(9))])])
def test_positions_match_keras_hub_and_start_index(positions):
    import keras_hub

    inputs = np.zeros((2, 9, 10), "float32")
    ours = np.asarray(SinusoidalPositionEncoding()(inputs, positions=positions))
    theirs = np.asarray(keras_hub.layers.SinePositionEncoding()(inputs, positions=positions))
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    if positions.ndim == 1:  # consecutive positions == start_index
        np.testing.assert_allclose(ours, SinusoidalPositionEncoding()(inputs, start_index=7), atol=1e-6)


def test_positions_with_wrong_length_raise():
    with pytest.raises(ValueError, match="positions.shape"):
        SinusoidalPositionEncoding()(np.zeros((1, 4, 6), "float32"), positions=np.arange(5))
