import keras
import keras_hub
import numpy as np
import pytest

from applications.vision import ViTClassifier, from_keras_hub


def _hub(**kwargs):
    keras.utils.set_random_seed(0)
    settings = dict(image_shape=(16, 16, 3), patch_size=4, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32)
    hub = keras_hub.models.ViTBackbone(**{**settings, **kwargs})
    # Random, non-trivial weights everywhere (keras-hub starts biases near 0 and the class token small).
    rng = np.random.default_rng(1)
    hub.set_weights([rng.normal(scale=0.3, size=w.shape).astype("float32") for w in hub.get_weights()])
    return hub


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"use_class_token": False},
        {"use_mha_bias": False, "use_mlp_bias": False, "use_patch_bias": False},
        {"image_shape": (8, 12, 1), "patch_size": (4, 2)},
    ],
    ids=["class_token", "gap", "no_biases", "non_square_grey"],
)
def test_outputs_equal_keras_hub(kwargs):
    hub = _hub(**kwargs)
    ours = from_keras_hub(hub)
    images = np.random.default_rng(2).uniform(-1, 1, size=(2, *hub.image_shape)).astype("float32")
    expected = np.asarray(hub(images))
    np.testing.assert_allclose(np.asarray(ours.encode(images)), expected, atol=1e-4, rtol=1e-4)
    pooled = expected[:, 0] if hub.use_class_token else expected.mean(axis=1)
    np.testing.assert_allclose(np.asarray(ours(images)), pooled, atol=1e-4, rtol=1e-4)
    assert ours.pooling == ("token" if hub.use_class_token else "gap")


def test_converted_backbone_fine_tunes_at_a_new_size():
    ours = from_keras_hub(_hub())
    model = ViTClassifier(ours.resized(24), num_classes=3)
    assert tuple(model(np.zeros((1, 24, 24, 3), "float32")).shape) == (1, 3)


def test_channels_first_is_refused():
    hub = keras_hub.models.ViTBackbone(
        image_shape=(3, 8, 8), patch_size=4, num_layers=1, num_heads=2, hidden_dim=8, mlp_dim=16,
        data_format="channels_first",
    )
    with pytest.raises(ValueError, match="channels_last"):
        from_keras_hub(hub)
