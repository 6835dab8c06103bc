import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_attn.layers import SpecAugment
from layer_checks import run_layer_checks

# The layer has no trainable weights; run_layer_checks' XLA fit step still runs it.
pytestmark = pytest.mark.filterwarnings("ignore:The model does not have any trainable weights")


def _features(batch=4, frames=50, bins=20, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((batch, frames, bins)) + 3.0).astype("float32")


def _masked(out, features, value=0.0):
    return np.isclose(out, value) & ~np.isclose(features, value)


def test_identity_at_inference():
    features = _features()
    layer = SpecAugment(time_mask_width=10, frequency_mask_width=5, seed=1)
    np.testing.assert_array_equal(np.asarray(layer(features)), features)
    np.testing.assert_array_equal(np.asarray(layer(features, training=False)), features)


def test_masks_in_training_and_keeps_shape():
    features = _features()
    layer = SpecAugment(time_masks=2, time_mask_width=10, frequency_masks=2, frequency_mask_width=5, seed=1)
    out = np.asarray(layer(features, training=True))
    assert out.shape == features.shape
    masked = out == 0.0
    assert masked.any()
    unchanged = out == features
    assert np.all(masked | unchanged)
    # Each masked entry lies in a fully masked row (time) or column (frequency).
    for i in range(len(features)):
        rows = masked[i].all(axis=1)
        cols = masked[i].all(axis=0)
        assert np.array_equal(masked[i], rows[:, None] | cols[None, :])
        assert rows.sum() <= 2 * 10 and cols.sum() <= 2 * 5


def test_widths_are_bounded_and_vary():
    features = _features(batch=64, frames=40, bins=30)
    layer = SpecAugment(time_masks=1, time_mask_width=8, frequency_masks=0, seed=3)
    out = np.asarray(layer(features, training=True))
    widths = (out == 0.0).all(axis=2).sum(axis=1)
    assert widths.max() <= 8
    assert len(set(widths.tolist())) > 3  # drawn per example
    # Contiguous spans.
    for row in (out == 0.0).all(axis=2):
        idx = np.flatnonzero(row)
        if idx.size:
            assert idx[-1] - idx[0] + 1 == idx.size


def test_width_capped_at_axis_size():
    features = _features(batch=8, frames=5, bins=4)
    layer = SpecAugment(time_masks=1, time_mask_width=100, frequency_masks=1, frequency_mask_width=27, seed=0)
    out = np.asarray(layer(features, training=True))
    assert out.shape == features.shape and np.all(np.isfinite(out))


def test_deterministic_with_seed():
    features = _features()
    a = SpecAugment(time_mask_width=10, frequency_mask_width=5, seed=42)
    b = SpecAugment(time_mask_width=10, frequency_mask_width=5, seed=42)
    out_a = np.asarray(a(features, training=True))
    np.testing.assert_array_equal(out_a, np.asarray(b(features, training=True)))
    # Successive calls draw new masks.
    assert not np.array_equal(out_a, np.asarray(a(features, training=True)))


def test_mean_mask_value():
    features = _features()
    layer = SpecAugment(time_mask_width=10, frequency_mask_width=5, mask_value="mean", seed=5)
    out = np.asarray(layer(features, training=True))
    means = features.mean(axis=(1, 2), keepdims=True)
    changed = out != features
    assert changed.any()
    np.testing.assert_allclose(
        out[changed], np.broadcast_to(means, features.shape)[changed], rtol=1e-6
    )


def test_no_masks_is_identity():
    features = _features()
    layer = SpecAugment(time_masks=0, frequency_masks=0, seed=0)
    np.testing.assert_array_equal(np.asarray(layer(features, training=True)), features)


def test_jit_compiled_training_call():
    features = _features()
    layer = SpecAugment(time_mask_width=10, frequency_mask_width=5, seed=7)
    compiled = tf.function(lambda x: layer(x, training=True), jit_compile=True)
    first = np.asarray(compiled(features))
    second = np.asarray(compiled(features))
    assert first.shape == features.shape
    assert (first == 0).any() and not np.array_equal(first, second)


def test_implicit_mask_passes_through():
    inputs = keras.Input(shape=(None, 8))
    masked = keras.layers.Masking(0.0)(inputs)
    layer = SpecAugment(time_mask_width=2, frequency_mask_width=2)
    out = layer(masked)
    assert layer.compute_mask(inputs, mask=None) is None
    features = np.ones((1, 3, 8), "float32")
    mask = np.array([[True, False, True]])
    np.testing.assert_array_equal(np.asarray(layer.compute_mask(features, mask)), mask)
    assert tuple(out.shape) == (None, None, 8)


def test_layer_checks():
    run_layer_checks(
        SpecAugment,
        dict(time_masks=2, time_mask_width=3, frequency_masks=1, frequency_mask_width=2, seed=0),
        {"inputs": _features(batch=2, frames=12, bins=8)},
        expected_output_shape=(2, 12, 8),
    )


def test_layer_checks_defaults_mean():
    run_layer_checks(
        SpecAugment,
        dict(mask_value="mean"),
        {"inputs": _features(batch=2, frames=30, bins=80)},
        expected_output_shape=(2, 30, 80),
    )


def test_bad_rank():
    with pytest.raises(ValueError, match=r"inputs.shape=\(2, 10\)"):
        SpecAugment()(np.zeros((2, 10), "float32"))


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(time_masks=-1), "time_masks"),
        (dict(time_mask_width=1.5), "time_mask_width"),
        (dict(frequency_masks=-2), "frequency_masks"),
        (dict(frequency_mask_width=-1), "frequency_mask_width"),
        (dict(mask_value="median"), "mask_value"),
        (dict(mask_value=None), "mask_value"),
    ],
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        SpecAugment(**kwargs)
