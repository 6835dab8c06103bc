"""Run folders: each state told apart, run.json written last with the model's checksum, one
training at a time."""

import json

import pytest

from applications.skeleton.errors import RunFolderError
from applications.skeleton.run_folder import RunFolder


def _finished(tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.write_state({"task": "toy", "settings": {}, "command_line": ["keras-attn", "toy", "train", "--out", "x"]})
    with open(folder.model_path, "wb") as file:
        file.write(b"weights")
    folder.finish({"task": "toy", "metrics": {"loss": 1.0}})
    return folder


def test_states(tmp_path):
    folder = RunFolder(tmp_path / "run")
    assert folder.status() == "missing"
    folder.write_state({"task": "toy", "settings": {}, "command_line": ["keras-attn", "toy", "train"]})
    assert folder.status() == "resumable"
    assert "unfinished toy run" in folder.describe_unfinished()
    assert "resume: keras-attn toy train" in folder.describe_unfinished()
    with open(folder.model_path, "wb") as file:
        file.write(b"weights")
    assert folder.status() == "resumable"  # a model without run.json is not a finished run
    folder.finish({"task": "toy"})
    assert folder.status() == "finished" and not (tmp_path / "run" / "training.json").exists()
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["model"]["bytes"] == 7 and len(info["model"]["sha256"]) == 64 and info["library_version"]


def test_a_replaced_or_missing_model_is_broken(tmp_path):
    folder = _finished(tmp_path)
    with open(folder.model_path, "wb") as file:
        file.write(b"other!!")  # same size, other bytes
    assert folder.status() == "broken" and "checksum" in folder.model_problem(folder.info())
    folder.model_path and __import__("os").remove(folder.model_path)
    assert "missing" in folder.model_problem(folder.info())


def test_a_continuation_keeps_the_finished_run_loadable(tmp_path):
    folder = _finished(tmp_path)
    folder.write_state({"task": "toy", "settings": {}, "command_line": []})  # training more epochs
    assert folder.status() == "finished"


def test_files_without_markers_and_legacy_folders(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "history.csv").write_text("epoch,loss\n")
    assert RunFolder(tmp_path / "run").status() == "broken"
    (tmp_path / "run" / "train_config.json").write_text("{}")
    assert RunFolder(tmp_path / "run").status() == "legacy"
    assert RunFolder(tmp_path / "run").legacy_task() == "image-classification"


def test_a_second_training_is_refused_while_the_first_holds_the_lock(tmp_path):
    folder = RunFolder(tmp_path / "run")
    with folder.lock():
        with pytest.raises(RunFolderError, match=r"in use by another training \(pid \d+"):
            with RunFolder(tmp_path / "run").lock():
                pass
    with folder.lock():  # released: free again
        pass


def test_remove_new_entries_keeps_what_the_user_had(tmp_path):
    folder = RunFolder(tmp_path / "run")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    before = {"notes.txt"}
    (tmp_path / "run" / "history.csv").write_text("x")
    (tmp_path / "run" / "tensorboard").mkdir()
    folder.remove_new_entries(before)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["notes.txt"]
    folder.remove_new_entries(None)  # the folder did not exist before: removed whole
    assert not (tmp_path / "run").exists()
