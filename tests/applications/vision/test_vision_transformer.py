import keras
import numpy as np
import pytest
from layer_checks import run_layer_checks

from applications.vision import VisionTransformer

TINY = dict(num_layers=1, hidden_dim=8, num_heads=2, intermediate_dim=16)


def _images(batch, height, width, channels, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, height, width, channels)).astype("float32")


@pytest.mark.parametrize("pooling", ["token", "gap"])
def test_layer_checks(pooling):
    run_layer_checks(
        VisionTransformer,
        dict(image_size=8, patch_size=4, num_channels=3, pooling=pooling, stochastic_depth_rate=0.1, **TINY),
        {"images": _images(2, 8, 8, 3)},
        expected_output_shape=(2, 8),
    )


@pytest.mark.parametrize(
    "image_size, patch_size, channels, tokens",
    [
        (8, 2, 1, 17),  # load_digits
        (8, 4, 3, 5),
        (32, 4, 3, 65),  # CIFAR-sized with /4
        (32, 8, 5, 17),  # any channel count
        ((8, 12), 4, 1, 7),  # non-square
        (16, (4, 2), 2, 33),  # non-square patches
        (64, 32, 3, 5),  # a /32 model
    ],
)
def test_shapes(image_size, patch_size, channels, tokens):
    backbone = VisionTransformer(image_size=image_size, patch_size=patch_size, num_channels=channels, **TINY)
    height, width = (image_size, image_size) if isinstance(image_size, int) else image_size
    images = _images(2, height, width, channels)
    assert tuple(backbone(images).shape) == (2, 8)
    assert tuple(backbone.encode(images).shape) == (2, tokens, 8)


def test_named_sizes_build():
    backbone = VisionTransformer.from_size("Ti/16", image_size=32, num_layers=1)
    assert (backbone.hidden_dim, backbone.num_heads, backbone.intermediate_dim, backbone.patch_size) == (
        192, 3, 768, (16, 16),
    )
    assert tuple(backbone(_images(1, 32, 32, 3)).shape) == (1, 192)
    assert backbone.num_layers == 1 and len(backbone.encoder.blocks) == 1


def test_gap_has_no_class_token():
    backbone = VisionTransformer(image_size=8, patch_size=4, pooling="gap", **TINY)
    images = _images(2, 8, 8, 3)
    np.testing.assert_allclose(backbone(images), np.mean(backbone.encode(images), axis=1), atol=1e-6)
    assert not hasattr(backbone, "class_token")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(image_size=10, patch_size=4), "divisible"),
        (dict(image_size=8, patch_size=0), "patch_size"),
        (dict(image_size=8, patch_size=4, pooling="cls"), "pooling"),
        (dict(image_size=8, patch_size=4, num_heads=3), "num_heads"),
        (dict(image_size=8, patch_size=4, num_layers=0), "num_layers"),
    ],
)
def test_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VisionTransformer(**{**TINY, **kwargs})


def test_wrong_image_size_says_resized():
    backbone = VisionTransformer(image_size=8, patch_size=4, **TINY)
    with pytest.raises(ValueError, match="resized"):
        backbone(_images(1, 16, 16, 3))


def test_resized_same_size_is_identity():
    backbone = VisionTransformer(image_size=8, patch_size=2, **TINY)
    images = _images(2, 8, 8, 3)
    before = backbone.encode(images)
    same = backbone.resized(8)
    np.testing.assert_array_equal(same.encode(images), before)


def test_resized_interpolates_smoothly_and_copies_the_rest():
    keras.utils.set_random_seed(0)
    backbone = VisionTransformer(image_size=8, patch_size=2, **TINY)
    backbone.build((None, 8, 8, 3))
    # A smooth (linear) table on the 4x4 grid: rows*1 + cols*10 in every channel.
    rows, cols = np.meshgrid(np.arange(4.0), np.arange(4.0), indexing="ij")
    ramp = (rows + 10.0 * cols).reshape(16, 1) * np.ones((1, 8))
    backbone.position_embedding.position_embeddings.assign(ramp)
    bigger = backbone.resized(16)  # 8x8 grid
    assert bigger.grid_shape == (8, 8) and bigger.image_size == (16, 16)
    table = np.asarray(bigger.position_embedding.position_embeddings).reshape(8, 8, 8)[..., 0]
    # Half-pixel bilinear upsampling by 2: interior steps are exactly half the old ones.
    np.testing.assert_allclose(np.diff(table[1:-1, 3]), 0.5, atol=1e-5)
    np.testing.assert_allclose(np.diff(table[3, 1:-1]), 5.0, atol=1e-5)
    assert table.min() >= ramp.min() - 1e-5 and table.max() <= ramp.max() + 1e-5
    for ours, theirs in zip(bigger.encoder.weights, backbone.encoder.weights):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(bigger.class_token, backbone.class_token)
    assert tuple(bigger(_images(1, 16, 16, 3)).shape) == (1, 8)
    # Back down to the original grid gives a table close to the original (smooth).
    back = bigger.resized(8)
    np.testing.assert_allclose(
        np.asarray(back.position_embedding.position_embeddings)[:, 0], ramp[:, 0], atol=1.5
    )


def test_stochastic_depth_and_dropout_only_in_training():
    backbone = VisionTransformer(image_size=8, patch_size=4, dropout_rate=0.5, stochastic_depth_rate=0.5, **TINY)
    images = _images(4, 8, 8, 3)
    np.testing.assert_array_equal(backbone(images), backbone(images))
    assert not np.allclose(backbone(images, training=True), backbone(images))
