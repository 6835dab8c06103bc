"""Subprocess half of test_strategy.py: split the CPU into two logical devices
(which must happen before TensorFlow initialises), then train the same tiny
model with the default strategy and with `MirroredStrategy` over both devices
through `TrainingRun`, and print `RESULT {json}`. A test helper only."""

import json
import sys
import tempfile

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_attn.training import TrainingRun, resolve_strategy, strategy_kind  # noqa: E402

mirrored = resolve_strategy("mirrored")
auto = resolve_strategy("auto")

rng = np.random.default_rng(0)
x = rng.normal(size=(64, 4)).astype("float32")
y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")).astype("float32")
keras.utils.set_random_seed(0)
initial = keras.Sequential(
    [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
).get_weights()


def train(strategy):
    run = TrainingRun(tempfile.mkdtemp(), strategy=strategy, checkpoint_every_steps=None)
    with run.scope():
        model = keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
        )
        model.set_weights(initial)
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", jit_compile=run.jit_compile)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(run.global_batch_size(16 // run.num_replicas))
    history = run.fit(model, dataset, epochs=3, verbose=0)
    return run, history.history["loss"]


single_run, single_losses = train("default")
mirrored_run, mirrored_losses = train(mirrored)
print(
    "RESULT "
    + json.dumps(
        {
            "mirrored_kind": strategy_kind(mirrored),
            "mirrored_replicas": mirrored.num_replicas_in_sync,
            "mirrored_devices": list(mirrored.extended.worker_devices),
            "auto_kind": strategy_kind(auto),
            "single_jit": single_run.jit_compile,
            "mirrored_jit": mirrored_run.jit_compile,
            "single_losses": [float(v) for v in single_losses],
            "mirrored_losses": [float(v) for v in mirrored_losses],
        }
    ),
    flush=True,
)
sys.exit(0)
