import keras
import numpy as np
import pytest

from keras_attn.layers.rotary_embedding import RotaryEmbedding
from layer_checks import run_layer_checks


def _random(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def test_generic_layer_checks_rank_4():
    run_layer_checks(
        RotaryEmbedding,
        {"max_wavelength": 100, "scaling_factor": 2.0},
        {"inputs": _random((2, 5, 3, 8))},
        expected_output_shape=(2, 5, 3, 8),
    )


def test_generic_layer_checks_rank_3():
    run_layer_checks(RotaryEmbedding, {}, {"inputs": _random((2, 5, 6))}, expected_output_shape=(2, 5, 6))


@pytest.mark.parametrize(
    "shape, init_kwargs, start_index",
    [
        ((2, 7, 3, 8), {}, 0),
        ((2, 7, 3, 8), {"max_wavelength": 500, "scaling_factor": 4.0}, 5),
        ((2, 7, 16), {}, 3),
        ((2, 3, 7, 8), {"sequence_axis": 2, "feature_axis": 3}, 0),
        ((2, 8, 7), {"sequence_axis": -1, "feature_axis": 1}, 2),
    ],
)
def test_matches_keras_hub(shape, init_kwargs, start_index):
    import keras_hub

    x = _random(shape)
    ours = RotaryEmbedding(**init_kwargs)(x, start_index=start_index)
    theirs = keras_hub.layers.RotaryEmbedding(**init_kwargs)(x, start_index=start_index)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), atol=1e-5)


def test_dot_product_depends_only_on_relative_position():
    length, dim = 9, 8
    layer = RotaryEmbedding(max_wavelength=100)
    q, k = _random((dim,), 1), _random((dim,), 2)
    # The same query (key) vector at every position: (1, T, 1, D).
    queries = layer(np.tile(q, (1, length, 1, 1)).astype("float32"))
    keys = layer(np.tile(k, (1, length, 1, 1)).astype("float32"))
    scores = np.einsum("qd,kd->qk", np.asarray(queries)[0, :, 0], np.asarray(keys)[0, :, 0])
    for offset in range(-(length - 1), length):
        diagonal = np.diagonal(scores, offset=offset)
        np.testing.assert_allclose(diagonal, diagonal[0], atol=1e-4)
    # ... and does depend on it.
    assert np.ptp([scores[0, 0], scores[1, 0], scores[2, 0]]) > 1e-3
    # Shifting both by the same start index leaves every score unchanged.
    shifted_q = layer(np.tile(q, (1, length, 1, 1)).astype("float32"), start_index=40)
    shifted_k = layer(np.tile(k, (1, length, 1, 1)).astype("float32"), start_index=40)
    shifted = np.einsum("qd,kd->qk", np.asarray(shifted_q)[0, :, 0], np.asarray(shifted_k)[0, :, 0])
    np.testing.assert_allclose(shifted, scores, atol=1e-4)


def test_rotation_preserves_norms_and_position_zero():
    x = _random((2, 6, 2, 8))
    out = np.asarray(RotaryEmbedding()(x))
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-5)
    np.testing.assert_allclose(out[:, 0], x[:, 0], atol=1e-6)


def test_start_index_continues_the_sequence():
    layer = RotaryEmbedding()
    x = _random((1, 6, 2, 4))
    full = np.asarray(layer(x))
    step = np.asarray(layer(x[:, 4:5], start_index=keras.ops.convert_to_tensor(4)))
    np.testing.assert_allclose(step[:, 0], full[:, 4], atol=1e-6)


def test_float16():
    x = _random((1, 5, 2, 8))
    out = RotaryEmbedding(dtype="mixed_float16")(x, start_index=1000)
    reference = RotaryEmbedding()(x, start_index=1000)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    np.testing.assert_allclose(np.asarray(out, "float32"), np.asarray(reference), atol=1e-2)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="even size"):
        RotaryEmbedding()(_random((1, 4, 5)))
    with pytest.raises(ValueError, match="sequence_axis=1, feature_axis=1"):
        RotaryEmbedding(feature_axis=1)(_random((1, 4, 4)))
    with pytest.raises(ValueError, match="sequence_axis=5"):
        RotaryEmbedding(sequence_axis=5)(_random((1, 4, 4)))
    with pytest.raises(ValueError, match="scaling_factor"):
        RotaryEmbedding(scaling_factor=0)
    with pytest.raises(ValueError, match="max_wavelength"):
        RotaryEmbedding(max_wavelength=-1)
