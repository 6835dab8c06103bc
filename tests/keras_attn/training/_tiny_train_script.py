"""A tiny training job run in subprocesses by the tests of `keras_attn.training`.

It trains a two-layer Dense net on fixed random data through `TrainingRun`,
saves `model.keras` in `--out` and prints one line `RESULT {json}`. It is a test
helper, not part of the library (the file name keeps pytest from collecting it).

Options let a test slow every step (`--sleep`, to kill it mid-run), split the
CPU into logical devices (`--logical-cpus`, before TensorFlow starts) and pick
the strategy (`--strategy`, e.g. `multi-worker` with `TF_CONFIG` set).
"""

import argparse
import json
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True)
    parser.add_argument("--strategy", default="default")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--steps-per-epoch", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=8, help="per replica")
    parser.add_argument("--checkpoint-every", type=int, default=2)
    parser.add_argument("--sleep", type=float, default=0.0, help="seconds added to each step")
    parser.add_argument("--logical-cpus", type=int, default=0)
    args = parser.parse_args()

    import tensorflow as tf

    if args.logical_cpus:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * args.logical_cpus
        )

    from keras_attn.training import TrainingRun

    run = TrainingRun(args.out, strategy=args.strategy, checkpoint_every_steps=args.checkpoint_every)

    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    global_batch = run.global_batch_size(args.batch_size)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.steps_per_epoch * global_batch, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(global_batch).repeat()

    with run.scope():
        model = keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
        )
        model.compile(
            optimizer=keras.optimizers.SGD(0.05), loss="mse", jit_compile=run.jit_compile
        )

    class SlowSteps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            time.sleep(args.sleep)

    history = run.fit(
        model,
        dataset,
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch,
        callbacks=[SlowSteps()] if args.sleep else [],
        verbose=2,
    )
    path = run.save_model(model, "model.keras")
    result = {
        "iterations": int(model.optimizer.iterations.numpy()),
        "losses": [float(v) for v in history.history.get("loss", [])],
        "is_chief": run.is_chief,
        "num_replicas": run.num_replicas,
        "jit_compile": run.jit_compile,
        "strategy": run.strategy_kind,
        "model_path": path,
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
