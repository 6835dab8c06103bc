"""SIGKILL a real training process mid-run, damage its newest checkpoint, and run
the same command again: it falls back to the previous checkpoint with a warning
naming the damaged one, resumes there (progress `Epoch 3/6`, not `Epoch 1/6`),
trains exactly the planned number of steps, and saves a model that loads."""

import os
import re
import subprocess

import keras
import numpy as np
import pytest

from keras_attn.training.checkpointing import list_checkpoints
from kill_on_checkpoint import sigkill_once_checkpointed

EPOCHS, STEPS, EVERY = 6, 5, 2


def test_sigkill_then_resume(tmp_path, helpers):
    out = str(tmp_path / "run")
    folder = os.path.join(out, "checkpoints")
    command = helpers.script_command(
        "--out", out, "--epochs", EPOCHS, "--steps-per-epoch", STEPS,
        "--checkpoint-every", EVERY, "--sleep", 0.2,
    )
    env = helpers.subprocess_env()

    # Run 1: killed once a checkpoint of step 14 exists (epoch 3, batch 4).
    first_output = sigkill_once_checkpointed(command, folder, lambda step: step >= 14, timeout=150, poll=0.02, env=env)
    assert "RESULT" not in first_output
    checkpoints = list_checkpoints(folder)
    # Two are kept; a third can remain when the kill hit between a commit and the pruning.
    assert len(checkpoints) in (2, 3), checkpoints
    latest, previous = checkpoints[:2]
    assert latest["global_step"] >= 14, first_output[-3000:]

    # Truncate the newest checkpoint: the rerun must fall back to the previous one.
    with open(latest["weights_path"], "r+b") as f:
        f.truncate(os.path.getsize(latest["weights_path"]) // 3)
    epoch, batch = previous["epoch"], previous["batch"]
    if batch >= STEPS:
        epoch, batch = epoch + 1, 0
    assert epoch >= 1  # the fallback is past the first epoch

    # Run 2: the same command.
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    output = second.stdout + second.stderr
    assert second.returncode == 0, output[-4000:]
    assert re.search(
        rf"WARNING: Checkpoint {re.escape(latest['weights_path'])} is unusable: .*"
        rf"falling back to {re.escape(previous['weights_path'])}",
        output,
    ), output[-4000:]
    assert f"Resuming from checkpoint {previous['weights_path']}" in output
    shown = re.findall(r"^Epoch (\d+)/(\d+)", second.stdout, flags=re.M)
    assert shown[0] == (str(epoch + 1), str(EPOCHS)), shown  # e.g. Epoch 3/6
    assert ("1", str(EPOCHS)) not in shown
    assert shown[-1] == (str(EPOCHS), str(EPOCHS))
    result = helpers.parse_result(second.stdout)
    assert result["iterations"] == EPOCHS * STEPS  # the planned steps, no more, no fewer
    assert len(result["losses"]) == EPOCHS - epoch

    model = keras.saving.load_model(result["model_path"])
    assert np.isfinite(model.predict(np.ones((2, 4), "float32"), verbose=0)).all()
    assert [c["global_step"] for c in list_checkpoints(folder)][0] == EPOCHS * STEPS
