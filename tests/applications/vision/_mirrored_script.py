"""Subprocess half of test_train.py::test_mirrored_matches_one_device: split the
CPU into two logical devices (before TensorFlow initialises), train the tiny
digits ViT on one device and with MirroredStrategy over both (same global batch,
same batch order), print `RESULT {json}`. A test helper only."""

import csv
import json
import sys
import tempfile

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from applications import datasets, vision  # noqa: E402

digits = load_digits()
images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
data = datasets.save_image_folders(
    images, digits.target, [f"digit_{i}" for i in range(10)], tempfile.mkdtemp(), limit_per_class=16
)
common = dict(
    data=str(data), size="mu/2", num_layers=1, hidden_dim=16, num_heads=2, intermediate_dim=32, epochs=2,
    validation_fraction=0.0, verbose=0, learning_rate=3e-3,
    gradient_clip_norm=None,  # Keras clips per replica; the optimizer turns it off under Mirrored anyway
    # A seeded tf.data shuffle yields another order once the strategy distributes
    # (rewrites) the dataset; with files in a fixed order the two runs see the same batches.
    shuffle=False,
)


def losses(out):
    with open(f"{out}/history.csv") as handle:
        return [float(row["loss"]) for row in csv.DictReader(handle)]


results = {}
for name, strategy, batch in (("single", "default", 16), ("mirrored", "mirrored", 8)):
    out = tempfile.mkdtemp()
    summary = vision.train(out=out, strategy=strategy, batch_size=batch, **common)
    results[name] = {"losses": losses(out), "num_replicas": summary["num_replicas"],
                     "global_batch_size": summary["global_batch_size"]}
print("RESULT " + json.dumps(results), flush=True)
sys.exit(0)
