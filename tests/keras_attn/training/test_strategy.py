"""resolve_strategy and TrainingRun's strategy-dependent settings.

The MirroredStrategy checks run in a subprocess that splits the CPU into two
logical devices before TensorFlow initialises.
"""

import os
import subprocess

import pytest
import tensorflow as tf

from keras_attn.training import TrainingRun, resolve_strategy, strategy_kind


def test_default_on_this_cpu_machine(tmp_path):
    strategy = resolve_strategy("auto")
    assert strategy_kind(strategy) == "default"
    assert strategy.num_replicas_in_sync == 1
    assert strategy_kind(resolve_strategy("default")) == "default"
    run = TrainingRun(tmp_path, strategy="auto")
    assert (run.num_replicas, run.is_chief, run.jit_compile) == (1, True, True)
    assert run.global_batch_size(32) == 32


@pytest.mark.parametrize("name", ["mirored", "gpu", "", "MultiWorker"])
def test_unknown_name_is_a_value_error(name):
    with pytest.raises(ValueError, match="Unknown strategy"):
        resolve_strategy(name)


def test_strategy_objects_pass_through():
    strategy = tf.distribute.get_strategy()
    assert resolve_strategy(strategy) is strategy


def test_jit_compile_argument(tmp_path):
    assert TrainingRun(tmp_path, strategy="default", jit_compile=False).jit_compile is False
    with pytest.raises(ValueError):
        TrainingRun(tmp_path, strategy="default", jit_compile="yes")


@pytest.fixture(scope="module")
def mirrored_result():
    script = os.path.join(os.path.dirname(__file__), "_mirrored_script.py")
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("TF_CONFIG", None)
    import sys

    completed = subprocess.run(
        [sys.executable, script], env=env, capture_output=True, text=True, timeout=240
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    import json

    line = [l for l in completed.stdout.splitlines() if l.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):]), output


def test_mirrored_over_two_logical_cpus(mirrored_result):
    result, output = mirrored_result
    assert result["mirrored_kind"] == "mirrored"
    assert result["mirrored_replicas"] == 2
    assert [d.split("/")[-1] for d in result["mirrored_devices"]] == ["device:CPU:0", "device:CPU:1"]
    # Logical CPUs are a testing device: "auto" still picks the default strategy.
    assert result["auto_kind"] == "default"
    # XLA is used on one device and turned off, with a message, under Mirrored.
    assert result["single_jit"] is True and result["mirrored_jit"] is False
    assert "jit_compile off" in output and "mirrored strategy" in output


def test_mirrored_trains_like_a_single_device(mirrored_result):
    result, _ = mirrored_result
    assert len(result["mirrored_losses"]) == len(result["single_losses"]) == 3
    assert result["mirrored_losses"] == pytest.approx(result["single_losses"], rel=1e-4)
    assert result["mirrored_losses"][-1] < result["mirrored_losses"][0]
