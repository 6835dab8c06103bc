"""TrainingRun's records: history.csv appended across resumes, the training-curve
PNG, TensorBoard logs, and save_model."""

import csv
import os

import keras
import numpy as np
import pytest

from keras_attn.training import TrainingRun
from keras_attn.training.curves import read_history

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def two_sessions(tmp_path, tiny_model, dataset, validation=None):
    for epochs in (2, 3):  # the second run resumes at epoch 3
        run = TrainingRun(tmp_path, strategy="default", checkpoint_every_steps=None, jit_compile=False)
        model = tiny_model(run)
        run.fit(model, dataset, epochs=epochs, validation_data=validation, verbose=0)
    return run, model


def test_history_csv_appends_across_resumes(tmp_path, tiny_model, tiny_dataset):
    run, _ = two_sessions(tmp_path, tiny_model, tiny_dataset, validation=tiny_dataset.take(1))
    with open(run.history_path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][0] == "epoch" and "loss" in rows[0] and "val_loss" in rows[0]
    assert [row[0] for row in rows[1:]] == ["0", "1", "2"]  # one header, three epochs
    assert list(read_history(run.history_path)) == ["loss", "val_loss"]


def test_training_curve_png(tmp_path, tiny_model, tiny_dataset):
    run, _ = two_sessions(tmp_path, tiny_model, tiny_dataset)
    with open(run.curve_path, "rb") as f:
        assert f.read(8) == PNG_MAGIC
    assert os.path.getsize(run.curve_path) > 5000


def test_tensorboard_logs(tmp_path, tiny_model, tiny_dataset):
    pytest.importorskip("tensorboard", reason="tensorboard is not installed")
    run, _ = two_sessions(tmp_path, tiny_model, tiny_dataset)
    events = [
        name
        for _, _, names in os.walk(run.tensorboard_dir)
        for name in names
        if name.startswith("events.out.tfevents")
    ]
    assert len(events) >= 2  # one per session


def test_save_model_writes_a_loadable_model(tmp_path, tiny_model, tiny_dataset):
    run, model = two_sessions(tmp_path, tiny_model, tiny_dataset)
    path = run.save_model(model, "model.keras")
    assert path == os.path.join(run.out_dir, "model.keras")
    loaded = keras.saving.load_model(path)
    x = np.ones((2, 4), "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert not [name for name in os.listdir(run.out_dir) if ".tmp-" in name]


def test_steps_per_execution_trains_the_planned_steps_to_the_same_weights(tmp_path, tiny_model, tiny_dataset):
    """Several steps per call (a divisor of the epoch: 6 steps, asked for 4, run 3 per call):
    the same number of steps, the same weights as one step per call, checkpoints at call ends."""
    repeated = tiny_dataset.repeat()
    weights = {}
    for asked in (1, 4):
        run = TrainingRun(tmp_path / f"spe{asked}", strategy="default", checkpoint_every_steps=4, jit_compile=False,
                          steps_per_execution=asked)
        model = tiny_model(run)
        run.fit(model, repeated, epochs=2, steps_per_epoch=6, verbose=0)
        assert int(model.optimizer.iterations.numpy()) == 12
        assert model.steps_per_execution == run.steps_per_call(6) == (1 if asked == 1 else 3)
        weights[asked] = [w.numpy() for w in model.weights]
        steps = sorted(int(name[5:14]) for name in os.listdir(run.checkpoint_dir) if name.endswith(".json"))
        assert steps[-1] == 12 and all(step % model.steps_per_execution == 0 for step in steps)
    for one, several in zip(weights[1], weights[4]):
        np.testing.assert_allclose(one, several, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="steps_per_execution"):
        TrainingRun(tmp_path / "bad", strategy="default", steps_per_execution=0)


def test_steps_per_execution_is_one_under_a_mirrored_strategy(tmp_path, tiny_model, tiny_dataset):
    """Keras' multi-step train function fails under mirrored and multi-worker strategies (the
    two-worker `gpt train` case of tests/applications/test_multi_worker.py): one step per call."""
    run = TrainingRun(tmp_path, strategy="mirrored", checkpoint_every_steps=None, steps_per_execution=4)
    model = tiny_model(run)
    run.fit(model, tiny_dataset.repeat(), epochs=1, steps_per_epoch=4, verbose=0)
    assert model.steps_per_execution == 1 and int(model.optimizer.iterations.numpy()) == 4
