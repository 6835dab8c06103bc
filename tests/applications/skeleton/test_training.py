"""The one training entry on a tiny task: run.json last, finished runs left alone or
continued, other settings refused, failed starts cleaned up, one training at a time."""

import json
import os

import pytest

from applications.skeleton.errors import RunFolderError
from applications.skeleton.run_folder import RunFolder
from applications.skeleton.settings import resolve_settings
from applications.skeleton.task import OptimizerRecipe, Task, TaskData
from applications.skeleton.training import train


class TinyTask(Task):
    """A Dense net on 64 fixed random examples; `fail_in_read` fails before training."""

    name, family = "tiny-regression", "tiny"
    recipe = OptimizerRecipe(optimizer="adam", schedule="cosine", warmup_fraction=0.0)
    defaults = dict(epochs=2, batch_size=16, learning_rate=1e-2, fail_in_read=False)

    def read_data(self, settings, run):
        import numpy as np
        import tensorflow as tf

        if settings.fail_in_read:
            raise ValueError("bad data file: line 3")
        rng = np.random.default_rng(0)
        x = rng.normal(size=(64, 4)).astype("float32")
        y = x.sum(axis=1, keepdims=True)
        batch = run.global_batch_size(settings.batch_size)
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).repeat().batch(batch, drop_remainder=True)
        return TaskData(train=dataset, steps_per_epoch=64 // batch, num_train_examples=64,
                        preprocessing={"features": 4}, assets={"notes.txt": b"asset"})

    def build_model(self, settings, data, init):
        import keras

        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])

    def loss_and_metrics(self, settings, data):
        return "mse", []


def _train(tmp_path, **settings):
    task = TinyTask()
    values = dict(data="unused", out=str(tmp_path / "run"), strategy="default", verbose=0, checkpoint_every=2)
    values.update(settings)
    return train(task, resolve_settings(task, **values), command_line=["keras-attn", "tiny", "train"])


def _history_rows(tmp_path):
    return len((tmp_path / "run" / "history.csv").read_text().splitlines()) - 1


def test_a_run_writes_its_folder_with_run_json_last(tmp_path):
    summary = _train(tmp_path)
    assert summary["task"] == "tiny-regression" and summary["steps"] == 8 and summary["epochs"] == 2
    folder = RunFolder(tmp_path / "run")
    assert folder.status() == "finished" and not os.path.exists(folder.state_path)
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["task"] == "tiny-regression" and info["preprocessing"] == {"features": 4}
    assert info["training"]["learning_rate"] == 1e-2 and info["assets"] == ["notes.txt"]
    assert info["command_line"] == ["keras-attn", "tiny", "train"] and "loss" in info["metrics"]
    assert (tmp_path / "run" / "notes.txt").read_bytes() == b"asset"


def test_the_same_command_again_leaves_a_finished_run_alone(tmp_path):
    _train(tmp_path)
    before = (tmp_path / "run" / "model.keras").read_bytes()
    summary = _train(tmp_path)
    assert (tmp_path / "run" / "model.keras").read_bytes() == before and _history_rows(tmp_path) == 2
    assert summary["task"] == "tiny-regression" and "loss" in summary


def test_more_epochs_continue_a_finished_run(tmp_path):
    _train(tmp_path)
    summary = _train(tmp_path, epochs=3)
    assert summary["epochs"] == 3 and _history_rows(tmp_path) == 3  # one more epoch, not three


def test_other_settings_are_refused_and_the_run_is_untouched(tmp_path):
    _train(tmp_path)
    before = sorted(os.listdir(tmp_path / "run"))
    with pytest.raises(RunFolderError, match=r"finished run trained with --learning-rate 0.01, not 0.5"):
        _train(tmp_path, learning_rate=0.5)
    assert sorted(os.listdir(tmp_path / "run")) == before and RunFolder(tmp_path / "run").status() == "finished"


def test_a_failed_start_leaves_nothing_that_looks_like_a_run(tmp_path):
    with pytest.raises(ValueError, match="line 3"):
        _train(tmp_path, fail_in_read=True)
    assert not (tmp_path / "run").exists()
    (tmp_path / "run").mkdir()  # an empty folder the user made: kept, and empty again
    with pytest.raises(ValueError, match="line 3"):
        _train(tmp_path, fail_in_read=True)
    assert os.listdir(tmp_path / "run") == []
    (tmp_path / "run" / "mine.txt").write_text("kept")  # a folder of other files is not trained into
    with pytest.raises(RunFolderError, match="holds files but no run"):
        _train(tmp_path)
    assert os.listdir(tmp_path / "run") == ["mine.txt"]


def test_an_interrupted_run_resumes_and_refuses_other_settings(tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.write_state({"task": "tiny-regression", "settings": {"learning_rate": 0.01, "batch_size": 16},
                        "command_line": ["keras-attn", "tiny", "train"]})
    with pytest.raises(RunFolderError, match="unfinished run trained with --batch-size 16, not 8"):
        _train(tmp_path, batch_size=8)
    assert _train(tmp_path)["steps"] == 8 and folder.status() == "finished"


def test_a_folder_of_another_task_is_refused(tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.write_state({"task": "translation", "settings": {}, "command_line": []})
    with pytest.raises(RunFolderError, match="holds a translation run; this command trains tiny-regression"):
        _train(tmp_path)


def test_one_training_at_a_time(tmp_path):
    with RunFolder(tmp_path / "run").lock():
        with pytest.raises(RunFolderError, match="in use by another training"):
            _train(tmp_path)
