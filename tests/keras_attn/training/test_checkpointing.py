"""Checkpoint/resume of TrainingRun.fit, in process.

An interruption is simulated by an exception raised from a callback (the real
SIGKILL is in test_kill_and_resume.py). The data come in a fixed order, so a
resumed run must end with exactly the weights of an uninterrupted one.
"""

import json
import os

import keras
import numpy as np
import pytest

from keras_attn.training import CheckpointMismatchError, TrainingRun
from keras_attn.training.checkpointing import list_checkpoints

EPOCHS = 4
STEPS = 5  # batches per epoch of `tiny_dataset`


class Interrupt(Exception):
    pass


class InterruptAtStep(keras.callbacks.Callback):
    """Raises at the end of the `step`-th batch of this fit (before the
    checkpoint callback, which runs last, could save that step)."""

    def __init__(self, step):
        super().__init__()
        self.step, self.seen = step, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.step:
            raise Interrupt()


def new_run(out_dir, **kwargs):
    kwargs.setdefault("checkpoint_every_steps", 3)
    kwargs.setdefault("jit_compile", False)  # XLA compiling costs ~1 s a model; not under test here
    return TrainingRun(out_dir, strategy="default", **kwargs)


def weights_of(model):
    return [np.asarray(w) for w in model.get_weights()]


@pytest.fixture
def reference_weights(tmp_path, tiny_model, tiny_dataset):
    run = new_run(tmp_path / "reference")
    model = tiny_model(run)
    run.fit(model, tiny_dataset, epochs=EPOCHS, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == EPOCHS * STEPS
    return weights_of(model)


def interrupted_then_resumed(out_dir, tiny_model, tiny_dataset, stop_at):
    run = new_run(out_dir)
    with pytest.raises(Interrupt):
        run.fit(tiny_model(run), tiny_dataset, epochs=EPOCHS, callbacks=[InterruptAtStep(stop_at)], verbose=0)
    run = new_run(out_dir)
    model = tiny_model(run, seed=123)  # a fresh process would start from other weights
    history = run.fit(model, tiny_dataset, epochs=EPOCHS, verbose=0)
    return model, history


def test_resumes_mid_epoch_and_matches_an_uninterrupted_run(
    tmp_path, tiny_model, tiny_dataset, reference_weights, log_records
):
    # Checkpoints at steps 3, 5 (epoch end), 6, 9, 10, 12; interrupted during step 13.
    model, history = interrupted_then_resumed(tmp_path / "run", tiny_model, tiny_dataset, stop_at=13)
    assert any(
        "Resuming from checkpoint" in m and "ckpt-000000012" in m and "epoch 3, batch 2" in m
        for m in log_records.messages()
    )
    assert len(history.history["loss"]) == 2  # epochs 3 (its last 3 batches) and 4
    assert int(model.optimizer.iterations.numpy()) == EPOCHS * STEPS  # the planned steps
    for got, expected in zip(weights_of(model), reference_weights):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_resumes_at_an_epoch_boundary(tmp_path, tiny_model, tiny_dataset, reference_weights):
    # Interrupted during step 11: the newest checkpoint is step 10, the end of epoch 2.
    model, history = interrupted_then_resumed(tmp_path / "run", tiny_model, tiny_dataset, stop_at=11)
    assert len(history.history["loss"]) == 2
    assert int(model.optimizer.iterations.numpy()) == EPOCHS * STEPS
    for got, expected in zip(weights_of(model), reference_weights):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_keeps_the_two_newest_checkpoints_with_manifests(tmp_path, tiny_model, tiny_dataset):
    run = new_run(tmp_path)
    run.fit(tiny_model(run), tiny_dataset, epochs=2, verbose=0)
    checkpoints = list_checkpoints(run.checkpoint_dir)
    assert [c["global_step"] for c in checkpoints] == [10, 9]
    assert (checkpoints[0]["epoch"], checkpoints[0]["batch"]) == (2, 0)
    assert (checkpoints[1]["epoch"], checkpoints[1]["batch"]) == (1, 4)
    assert sorted(os.listdir(run.checkpoint_dir)) == [
        "ckpt-000000009.json",
        "ckpt-000000009.weights.h5",
        "ckpt-000000010.json",
        "ckpt-000000010.weights.h5",
    ]


def _truncate(path):
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size // 2)


def _flip_bytes(path):
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        chunk = f.read(64)
        f.seek(-len(chunk), os.SEEK_CUR)
        f.write(bytes(b ^ 0xFF for b in chunk))


def _garble_manifest(path):
    manifest = path.replace(".weights.h5", ".json")
    with open(manifest, "w") as f:
        f.write('{"global_step": 1')


@pytest.mark.parametrize("damage", [_truncate, _flip_bytes, _garble_manifest])
def test_corrupt_latest_checkpoint_falls_back_to_the_previous_one(
    tmp_path, tiny_model, tiny_dataset, log_records, damage
):
    run = new_run(tmp_path)
    with pytest.raises(Interrupt):  # checkpoints 3, 5, 6, 9 -> kept: 6 and 9
        run.fit(tiny_model(run), tiny_dataset, epochs=EPOCHS, callbacks=[InterruptAtStep(9 + 1)], verbose=0)
    latest, previous = list_checkpoints(run.checkpoint_dir)[:2]
    assert (latest["global_step"], previous["global_step"]) == (9, 6)
    damage(latest["weights_path"])

    run = new_run(tmp_path)
    model = tiny_model(run)
    run.fit(model, tiny_dataset, epochs=EPOCHS, verbose=0)
    warnings = log_records.messages(level=30)
    assert any(
        latest["weights_path"] in m and "unusable" in m and previous["weights_path"] in m
        for m in warnings
    ), warnings
    assert any("Resuming from checkpoint" in m and "ckpt-000000006" in m for m in warnings)
    assert int(model.optimizer.iterations.numpy()) == EPOCHS * STEPS
    moved = os.listdir(os.path.join(run.checkpoint_dir, "corrupt"))
    assert any(name.endswith("ckpt-000000009.weights.h5") for name in moved)


def test_kill_during_a_write_leaves_the_previous_checkpoint(tmp_path, tiny_model, tiny_dataset, log_records):
    run = new_run(tmp_path)
    run.fit(tiny_model(run), tiny_dataset, epochs=1, verbose=0)  # checkpoints 3 and 5
    folder = run.checkpoint_dir
    # What a kill leaves at each point of a write: a partial temporary file, and
    # a renamed weights file whose manifest was not written yet.
    with open(os.path.join(folder, "ckpt-000000006.tmp-999.weights.h5"), "wb") as f:
        f.write(b"\x89HDF partial")
    with open(os.path.join(folder, "ckpt-000000007.weights.h5"), "wb") as f:
        f.write(b"\x89HDF uncommitted")
    run = new_run(tmp_path)
    model = tiny_model(run)
    run.fit(model, tiny_dataset, epochs=2, verbose=0)
    assert not any("unusable" in m for m in log_records.messages())
    assert any("Resuming from checkpoint" in m and "ckpt-000000005" in m for m in log_records.messages())
    assert int(model.optimizer.iterations.numpy()) == 2 * STEPS
    assert not [n for n in os.listdir(folder) if "tmp" in n or n.startswith("ckpt-000000007")]


def test_intact_checkpoint_of_another_model_is_an_error(tmp_path, tiny_dataset, tiny_model):
    run = new_run(tmp_path)
    run.fit(tiny_model(run), tiny_dataset, epochs=1, verbose=0)
    run = new_run(tmp_path)
    with run.scope():
        other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(1)])
        other.compile(optimizer="adam", loss="mse")
    with pytest.raises(CheckpointMismatchError, match="cannot be loaded into this model"):
        run.fit(other, tiny_dataset, epochs=2, verbose=0)


def test_finished_run_started_again_trains_nothing(tmp_path, tiny_model, tiny_dataset, log_records):
    run = new_run(tmp_path)
    run.fit(tiny_model(run), tiny_dataset, epochs=2, verbose=0)
    run = new_run(tmp_path)
    model = tiny_model(run)
    history = run.fit(model, tiny_dataset, epochs=2, verbose=0)
    assert history.history == {}
    assert int(model.optimizer.iterations.numpy()) == 2 * STEPS
    assert any("nothing left to train" in m for m in log_records.messages())


def test_unbuilt_subclassed_model_is_built_before_restoring(tmp_path, tiny_dataset):
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = keras.layers.Dense(8, activation="relu")
            self.out = keras.layers.Dense(1)

        def call(self, x):
            return self.out(self.hidden(x))

    for expected_steps in (STEPS, 2 * STEPS):
        run = new_run(tmp_path)
        with run.scope():
            model = Net()
            model.compile(optimizer="adam", loss="mse")
        run.fit(model, tiny_dataset, epochs=expected_steps // STEPS, verbose=0)
        assert int(model.optimizer.iterations.numpy()) == expected_steps


def test_manifest_records_the_checkpoint(tmp_path, tiny_model, tiny_dataset):
    run = new_run(tmp_path)
    run.fit(tiny_model(run), tiny_dataset, epochs=1, verbose=0)
    with open(os.path.join(run.checkpoint_dir, "ckpt-000000005.json")) as f:
        manifest = json.load(f)
    assert manifest["global_step"] == 5 and manifest["epoch"] == 1 and manifest["batch"] == 0
    assert manifest["size"] == os.path.getsize(os.path.join(run.checkpoint_dir, manifest["weights"]))
    assert len(manifest["sha256"]) == 64


def test_resume_with_steps_per_execution(tmp_path, tiny_dataset, reference_weights):
    def build(run, seed):
        keras.utils.set_random_seed(seed)
        with run.scope():
            model = keras.Sequential(
                [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
            )
            model.compile(optimizer="adam", loss="mse", steps_per_execution=2, jit_compile=False)
        return model

    # Executions of 2 steps end at steps 2, 4, 5 (epoch end), 7, 9, 10, ...: checkpoints
    # (every 3 steps and at epoch ends) at 4, 5, 7 and 9; interrupted in the 6th execution.
    run = new_run(tmp_path)
    with pytest.raises(Interrupt):
        run.fit(build(run, 0), tiny_dataset, epochs=EPOCHS, callbacks=[InterruptAtStep(6)], verbose=0)
    latest = list_checkpoints(run.checkpoint_dir)[0]
    assert (latest["global_step"], latest["epoch"], latest["batch"]) == (9, 1, 4)
    run = new_run(tmp_path)
    model = build(run, 123)
    run.fit(model, tiny_dataset, epochs=EPOCHS, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == EPOCHS * STEPS
    for got, expected in zip(weights_of(model), reference_weights):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
