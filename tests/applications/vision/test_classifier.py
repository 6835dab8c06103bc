import json

import keras
import numpy as np
import pytest

from applications.skeleton.init import parse_init
from applications.skeleton.loading import load_keras_model
from applications.vision import ViTClassifier, VisionTransformer, init_backbone


def _model(**kwargs):
    keras.utils.set_random_seed(0)
    backbone = VisionTransformer(
        image_size=8, patch_size=4, num_layers=1, hidden_dim=8, num_heads=2, intermediate_dim=16,
        num_channels=1, name="backbone",
    )
    return ViTClassifier(backbone, num_classes=3, class_names=["a", "b", "c"], **kwargs)


def _images(batch=2, size=8):
    return np.random.default_rng(0).normal(size=(batch, size, size, 1)).astype("float32")


def _perturb(model):
    rng = np.random.default_rng(3)
    model.set_weights([w + rng.normal(scale=0.1, size=w.shape).astype("float32") for w in model.get_weights()])


def test_save_load_round_trip(tmp_path):
    model = _model(dropout_rate=0.1)
    _perturb(model)  # the zero head would hide a lost weight
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = load_keras_model(path)
    assert loaded.class_names == ["a", "b", "c"] and loaded.dropout_rate == 0.1
    np.testing.assert_allclose(loaded(_images()), model(_images()), atol=1e-6)
    assert json.dumps(loaded.get_config(), sort_keys=True) == json.dumps(model.get_config(), sort_keys=True)


def test_new_task_from_saved_backbone(tmp_path):
    model = _model()
    _perturb(model)
    model.save(tmp_path / "model.keras")
    backbone = init_backbone(parse_init(str(tmp_path / "model.keras")), image_size=16)
    assert backbone.image_size == (16, 16) and backbone.grid_shape == (4, 4)
    np.testing.assert_array_equal(backbone.encoder.get_weights()[0], model.backbone.encoder.get_weights()[0])
    backbone.trainable = False
    new = ViTClassifier(backbone, num_classes=2)
    assert len(new.trainable_weights) == 2  # the new head only
    frozen = [w.copy() for w in backbone.get_weights()]
    new.compile(optimizer=keras.optimizers.Adam(0.1), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    new.fit(_images(4, 16), np.array([0, 1, 0, 1]), epochs=1, verbose=0)
    for before, after in zip(frozen, backbone.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert np.any(np.asarray(new.get_layer("logits").kernel) != 0.0)


def test_zero_head_starts_uniform():
    probabilities = keras.ops.softmax(_model()(_images()))
    np.testing.assert_allclose(probabilities, np.full((2, 3), 1 / 3), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(num_classes=0), "num_classes"), (dict(num_classes=2, class_names=["x"]), "class_names"),
     (dict(num_classes=2, dropout_rate=1.0), "dropout_rate")],
)
def test_argument_errors(kwargs, match):
    backbone = VisionTransformer(image_size=8, patch_size=4, num_layers=1, hidden_dim=8, num_heads=2, intermediate_dim=16)
    with pytest.raises(ValueError, match=match):
        ViTClassifier(backbone, **kwargs)
