"""`keras-attn vision train`, SIGKILLed mid-run and started again with the same
command, resumes from its last checkpoint and finishes the planned epochs."""

import csv
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits

import applications
from applications import datasets
from applications.skeleton.errors import RunFolderError
from keras_attn.training.checkpointing import list_checkpoints
from kill_on_checkpoint import sigkill_once_checkpointed

EPOCHS, BATCH, IMAGES = 12, 16, 160  # 10 steps per epoch


def test_killed_training_command_resumes(tmp_path):
    digits = load_digits()
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
    names = [f"digit_{i}" for i in range(10)]
    data = datasets.save_image_folders(images, digits.target, names, tmp_path / "digits", IMAGES // 10)
    out = tmp_path / "run"
    command = [
        sys.executable, "-m", "applications.cli", "vision", "train", "--data", str(data), "--out", str(out),
        "--epochs", str(EPOCHS), "--batch-size", str(BATCH), "--checkpoint-every", "3",
        "--size", "mu/2", "--num-layers", "1", "--hidden-dim", "16", "--num-heads", "2", "--mlp-dim", "32",
        "--validation-split", "0", "--strategy", "default",
    ]
    steps_per_epoch = IMAGES // BATCH

    # Run 1: killed once a checkpoint inside the third epoch exists.
    sigkill_once_checkpointed(
        command, out / "checkpoints", lambda step: step > 2 * steps_per_epoch, timeout=240, poll=0.01
    )
    assert not (out / "model.keras").exists() and not (out / "run.json").exists()
    # Not a finished run: loading it says how to resume, with the command.
    with pytest.raises(RunFolderError, match=r"unfinished image-classification run .*checkpoint.*resume: "
                                             r"keras-attn vision train --data"):
        applications.load(out)
    resumed_from = list_checkpoints(str(out / "checkpoints"))[0]
    assert resumed_from["global_step"] < EPOCHS * steps_per_epoch, "the first run finished before the kill"

    # Run 2: the same command picks up where the first stopped.
    second = subprocess.run(command, capture_output=True, text=True, timeout=300)
    output = second.stdout + second.stderr
    assert second.returncode == 0, output[-4000:]
    shown = [int(epoch) for epoch, total in re.findall(r"Epoch (\d+)/(\d+)", output)]
    assert shown[0] >= 3 and 1 not in shown, shown  # e.g. "Epoch 3/12", never "Epoch 1/12"
    assert shown[-1] == EPOCHS
    assert list_checkpoints(str(out / "checkpoints"))[0]["global_step"] == EPOCHS * steps_per_epoch
    with open(out / "history.csv") as f:
        assert [int(row["epoch"]) for row in csv.DictReader(f)][-1] == EPOCHS - 1
    assert applications.load(out).model.count_params() > 0
    assert not (out / "training.json").exists() and (out / "run.json").exists()
    assert os.path.exists(out / "training_curve.png")
