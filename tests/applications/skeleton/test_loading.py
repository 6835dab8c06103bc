"""`applications.load`: every state and every damaged file gives its own one-line message;
keras-attn 0.1 folders still load and give the outputs they gave then."""

import json
import os
import shutil
import zipfile

import numpy as np
import pytest

import applications
from applications.skeleton.errors import ModelFileError, RunFolderError
from applications.skeleton.loading import load_keras_model
from applications.skeleton.run_folder import RunFolder

LEGACY = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "legacy_runs")


def _legacy(name):
    return os.path.join(LEGACY, name)


@pytest.fixture(scope="module")
def expected():
    with np.load(_legacy("expected_outputs.npz")) as data:
        return {name: data[name] for name in data.files}


def test_legacy_translation_folder(expected):
    predictor = applications.load(_legacy("text"))
    assert predictor.task == "translation" and predictor.info["legacy"] == "keras-attn 0.1"
    ids = expected["text_ids"]
    logits = predictor.model.predict({"encoder_token_ids": ids, "decoder_token_ids": ids}, verbose=0)
    np.testing.assert_allclose(logits, expected["text_logits"], atol=1e-4)
    assert len(predictor.translate(["twelve", "two hundred"])) == 2


def test_legacy_vision_folder(expected):
    predictor = applications.load(_legacy("vision"))
    assert predictor.task == "image-classification"
    np.testing.assert_allclose(predictor.model.predict(expected["vision_images"], verbose=0), expected["vision_logits"],
                               atol=1e-5)
    [result] = predictor.predict([_legacy("digit_3.png")])
    assert result["label"] in predictor.class_names


@pytest.mark.parametrize("name, task", [("speech_classify", "speech-classification"), ("speech_ctc", "speech-ctc")])
def test_legacy_speech_folders(expected, name, task):
    predictor = applications.load(_legacy(name))
    assert predictor.task == task
    audio = expected["classify_audio" if name == "speech_classify" else "speech_audio"]
    lengths = expected["speech_lengths"]
    output = predictor.model.predict({"audio": audio, "sample_lengths": lengths}, verbose=0)
    np.testing.assert_allclose(output, expected[name], atol=1e-4)


def test_a_legacy_folder_converts_by_saving_it_again(tmp_path, expected):
    """What a user does to move a 0.1 folder to the current format: load it, save a run."""
    legacy = applications.load(_legacy("vision"))
    folder = RunFolder(tmp_path / "run")
    os.makedirs(folder.path)
    legacy.model.save(folder.model_path)
    folder.finish({"task": "image-classification"})
    with zipfile.ZipFile(folder.model_path) as archive:
        assert "applications.vision>ViTClassifier" in archive.read("config.json").decode()
    predictor = applications.load(folder.path)
    np.testing.assert_allclose(predictor.model.predict(expected["vision_images"], verbose=0), expected["vision_logits"],
                               atol=1e-5)


def test_a_run_of_another_task_names_both(tmp_path):
    with pytest.raises(RunFolderError, match=r"holds a translation run \(keras-attn text\); keras-attn vision "
                                             r"evaluate needs an image-classification run"):
        applications.load(_legacy("text"), tasks=("image-classification",), command="vision evaluate")


def test_folder_states_have_their_own_messages(tmp_path):
    with pytest.raises(RunFolderError, match="No such run folder"):
        applications.load(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunFolderError, match="empty folder"):
        applications.load(tmp_path / "empty")
    (tmp_path / "stray").mkdir()
    (tmp_path / "stray" / "history.csv").write_text("epoch\n")
    with pytest.raises(RunFolderError, match="not a run folder"):
        applications.load(tmp_path / "stray")
    state = RunFolder(tmp_path / "stopped")
    state.write_state({"task": "image-classification", "settings": {},
                       "command_line": ["keras-attn", "vision", "train", "--out", "stopped"]})
    with pytest.raises(RunFolderError, match="unfinished image-classification run.*resume: keras-attn vision train"):
        applications.load(tmp_path / "stopped")


def _copy_run(tmp_path):
    run = tmp_path / "run"
    folder = RunFolder(run)
    os.makedirs(run)
    shutil.copy(os.path.join(_legacy("vision"), "model.keras"), folder.model_path)
    folder.finish({"task": "image-classification"})
    return run, folder


def test_a_damaged_model_in_a_run_folder(tmp_path):
    run, folder = _copy_run(tmp_path)
    data = open(folder.model_path, "rb").read()
    with open(folder.model_path, "wb") as file:
        file.write(data[: len(data) // 2])  # truncated
    with pytest.raises(RunFolderError, match=r"damaged run folder: .*model.keras has \d+ bytes where run.json"):
        applications.load(run)


@pytest.mark.parametrize("damage, message", [
    (lambda data: data[: len(data) // 2], "damaged: not a complete .keras archive"),
    (lambda data: b"", "damaged: the file is empty"),
])
def test_damaged_keras_files_are_named(tmp_path, damage, message):
    path = tmp_path / "model.keras"
    path.write_bytes(damage(open(os.path.join(_legacy("vision"), "model.keras"), "rb").read()))
    with pytest.raises(ModelFileError, match=message) as error:
        load_keras_model(path)
    assert str(path) in str(error.value) and "File not found" not in str(error.value)


def _rewrite_config(source, target, change):
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    change(config)
    with zipfile.ZipFile(target, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, json.dumps(config) if name == "config.json" else content)
    return target


def test_an_unknown_class_is_named(tmp_path):
    def rename(config):
        config["class_name"], config["registered_name"], config["module"] = "MysteryNet", "elsewhere>MysteryNet", None

    path = _rewrite_config(os.path.join(_legacy("vision"), "model.keras"), tmp_path / "model.keras", rename)
    with pytest.raises(ModelFileError, match=r"uses the class 'MysteryNet'"):
        load_keras_model(path)


def test_a_lambda_layer_is_refused_by_safe_mode(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2)])
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(ModelFileError, match="Lambda layer"):
        load_keras_model(tmp_path / "lambda.keras")


def test_a_bare_model_file_of_a_self_contained_task(tmp_path):
    run, folder = _copy_run(tmp_path)
    shutil.copy(folder.model_path, tmp_path / "alone.keras")
    assert applications.load(tmp_path / "alone.keras").task == "image-classification"
    assert applications.load(folder.model_path).folder.path == str(run)  # model.keras inside its run folder
