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


def test_train_init_from_a_keras_hub_preset_folder(digits_dir, tmp_path):
    """`--init keras_hub:<preset>` downloads with keras-hub and converts; offline the same code
    path reads a preset folder that a small random backbone was saved to."""
    import json

    import applications
    from applications.cli import main

    hub = _hub(image_shape=(8, 8, 1), patch_size=2, hidden_dim=16, mlp_dim=32)
    hub.save_to_preset(str(tmp_path / "preset"))
    out = tmp_path / "run"
    assert main(["vision", "train", "--data", str(digits_dir), "--out", str(out), "--init",
                 f"keras_hub:{tmp_path / 'preset'}", "--epochs", "1", "--batch-size", "64", "--freeze-backbone",
                 "--strategy", "default", "--json"]) == 0
    model = applications.load(out).model
    images = np.random.default_rng(0).normal(size=(2, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(model.backbone.encode(images), hub(images), atol=1e-4)  # the frozen import
    assert json.loads((out / "run.json").read_text())["training"]["init"] == f"keras_hub:{tmp_path / 'preset'}"


def test_init_with_another_backbone_is_named(digits_dir, tmp_path, caplog):
    from applications.cli import main

    keras_hub.models.BertBackbone(vocabulary_size=20, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16,
                                  max_sequence_length=8).save_to_preset(str(tmp_path / "bert"))
    assert main(["vision", "train", "--data", str(digits_dir), "--out", str(tmp_path / "run"), "--init",
                 f"keras_hub:{tmp_path / 'bert'}"]) == 2
    assert "holds a BertBackbone; keras-attn vision imports ViTBackbone" in caplog.text
