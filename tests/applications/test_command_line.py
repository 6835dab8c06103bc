"""`keras-attn` starts like a tool: help without TensorFlow, a version, no start-up noise,
and Ctrl-C / SIGTERM stop a training with one line that says how to resume."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from multi_worker import subprocess_env

from applications.skeleton.console import _STARTUP_NOISE

LEGACY = os.path.join(os.path.dirname(__file__), "..", "fixtures", "legacy_runs")
HELP_SCRIPT = """
import sys
from applications.cli import main
try:
    main(sys.argv[1:])
except SystemExit as stop:
    code = stop.code
print("TENSORFLOW_IMPORTED" if "tensorflow" in sys.modules else "NO_TENSORFLOW", code)
"""


def _keras_attn(*argv, **kwargs):
    env = subprocess_env()
    env.pop("TF_CPP_MIN_LOG_LEVEL")  # as a user's shell: nothing set
    return subprocess.run([sys.executable, "-m", "applications.cli", *map(str, argv)], capture_output=True, text=True,
                          env=env, timeout=300, **kwargs)


@pytest.mark.parametrize("argv", [["--help"], ["text", "--help"], ["vision", "train", "--help"],
                                  ["speech", "--help"], ["text", "train", "--help"]])
def test_help_imports_no_tensorflow(argv):
    result = subprocess.run([sys.executable, "-c", HELP_SCRIPT, *argv], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "NO_TENSORFLOW 0", result.stdout[-2000:] + result.stderr[-2000:]
    assert "usage: keras-attn" in result.stdout and result.stderr == ""


def test_version():
    result = subprocess.run([sys.executable, "-m", "applications.cli", "--version"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and re.fullmatch(r"keras-attn \d+\.\d+\.\d+\n", result.stdout)


def test_no_tensorflow_start_up_lines_on_stderr():
    result = _keras_attn("vision", "predict", "--model", os.path.join(LEGACY, "vision"),
                         os.path.join(LEGACY, "digit_3.png"))
    assert result.returncode == 0, result.stderr
    noise = [line for line in result.stderr.splitlines() if _STARTUP_NOISE.search(line)]
    assert noise == [] and "absl::InitializeLog" not in result.stderr and "cuInit" not in result.stderr
    assert result.stdout.startswith(os.path.join(LEGACY, "digit_3.png") + ": ")


def test_a_user_error_is_one_line_and_exit_2():
    result = _keras_attn("vision", "predict", "--model", "no/such/run", "x.png")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == ["ERROR: No such run folder: no/such/run"]


def _digits(root, per_class=8):
    import numpy as np
    from sklearn.datasets import load_digits

    from applications import datasets

    digits = load_digits()
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
    return datasets.save_image_folders(images, digits.target, [f"d{i}" for i in range(10)], root, per_class)


@pytest.mark.parametrize("signal_number, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["SIGINT", "SIGTERM"])
def test_a_stopped_training_says_where_and_how_to_resume(tmp_path, signal_number, code):
    data = _digits(tmp_path / "digits")
    out = tmp_path / "run"
    env = subprocess_env()
    process = subprocess.Popen(
        [sys.executable, "-m", "applications.cli", "vision", "train", "--data", data, "--out", out, "--size", "mu/2",
         "--num-layers", "1", "--hidden-dim", "8", "--num-heads", "2", "--epochs", "500", "--batch-size", "8",
         "--checkpoint-every", "2", "--strategy", "default"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if (out / "checkpoints").is_dir() and any(name.endswith(".json") for name in os.listdir(out / "checkpoints")):
            break
        time.sleep(0.05)
    assert process.poll() is None, process.communicate()[1][-3000:]
    process.send_signal(signal_number)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == code, stderr[-3000:]
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f"ERROR: Stopped by {signal.Signals(signal_number).name}: ") and "resume" in last, last
    assert "keras-attn vision train --data" in last
    assert not (out / "run.json").exists() and (out / "training.json").exists()
