"""Training through the skeleton: a tiny ViT learns load_digits, fine-tunes from a
run folder at a new resolution, and trains alike on one and two devices."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import applications
from applications import vision


def test_tiny_vit_learns_digits(trained, predictor, digits_dir):
    summary, out = trained
    # Chance is 0.1; a 2-block ViT with 2x2 patches gets far above it in 6 epochs.
    assert summary["val_accuracy"] > 0.6, summary
    for name in ("model.keras", "run.json", "history.csv", "training_curve.png"):
        assert (out / name).is_file(), name
    info = json.loads((out / "run.json").read_text())
    assert info["task"] == "image-classification" and info["preprocessing"]["image_size"] == [8, 8]
    assert len(info["preprocessing"]["class_names"]) == 10 and info["model_config"]["patch_size"] == [2, 2]
    evaluated = predictor.evaluate(digits_dir, out_dir=out)
    assert evaluated["accuracy"] > 0.6 and evaluated["top5_accuracy"] > 0.9
    assert evaluated["num_examples"] == 1797
    assert np.asarray(evaluated["confusion_matrix"]).sum() == 1797
    assert (out / "confusion_matrix.png").is_file()


def test_fine_tune_at_a_new_resolution(trained, predictor, digits_dir, tmp_path):
    _, out = trained
    tuned = vision.train(data=str(digits_dir), out=str(tmp_path / "tuned"), init=str(out), image_size=16,
                         freeze_backbone=True, epochs=1, batch_size=64, validation_fraction=0.2, verbose=0)
    model = applications.load(tmp_path / "tuned").model
    assert model.backbone.image_size == (16, 16) and model.backbone.grid_shape == (8, 8)
    # Frozen: the encoder is the parent's, unchanged by training.
    for ours, theirs in zip(model.backbone.encoder.get_weights(), predictor.backbone.encoder.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    # Upsampled digits with the interpolated positions are still recognised after one head-only epoch.
    assert tuned["val_accuracy"] > 0.3, tuned


def test_mirrored_matches_one_device():
    script = os.path.join(os.path.dirname(__file__), "_mirrored_script.py")
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("TF_CONFIG", None)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    completed = subprocess.run([sys.executable, script], env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-4000:]
    line = [l for l in completed.stdout.splitlines() if l.startswith("RESULT ")][-1]
    result = json.loads(line[len("RESULT "):])
    single, mirrored = result["single"], result["mirrored"]
    assert (single["num_replicas"], mirrored["num_replicas"]) == (1, 2)
    assert single["global_batch_size"] == mirrored["global_batch_size"] == 16  # 8 per replica x 2
    assert len(single["losses"]) == len(mirrored["losses"]) == 2
    assert mirrored["losses"] == pytest.approx(single["losses"], rel=1e-3)
