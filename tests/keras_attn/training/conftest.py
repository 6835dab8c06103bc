"""Fixtures for the tests of keras_attn.training.

Helpers reach the tests through the `helpers` fixture (not by importing this
file, which pytest's importlib mode does not allow reliably).
"""

import json
import logging
import os
import sys
import types

import multi_worker
import pytest
from multi_worker import free_ports, subprocess_env, tf_config

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN_SCRIPT = os.path.join(HERE, "_tiny_train_script.py")


def script_command(*args, script=TRAIN_SCRIPT):
    return [sys.executable, script, *map(str, args)]


def parse_result(output):
    """The JSON of the `RESULT {...}` line a script printed, or `None`."""
    for line in reversed(output.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    return None


def run_workers(out_dirs, timeout, extra_env=None, script_args=(), stop_when=None):
    """The tiny script as a two-worker `MultiWorkerMirroredStrategy` job, one out folder per
    worker (see `multi_worker.run_workers`)."""
    commands = [script_command("--out", out_dir, "--strategy", "multi-worker", *script_args) for out_dir in out_dirs]
    return multi_worker.run_workers(commands, timeout, extra_env=extra_env, stop_when=stop_when)


@pytest.fixture(scope="session")
def helpers():
    """The helper functions and paths of this file, as attributes."""
    return types.SimpleNamespace(
        HERE=HERE,
        TRAIN_SCRIPT=TRAIN_SCRIPT,
        subprocess_env=subprocess_env,
        script_command=script_command,
        parse_result=parse_result,
        free_ports=free_ports,
        tf_config=tf_config,
        run_workers=run_workers,
    )


@pytest.fixture
def small_dataset():
    """`(x, y)` arrays of a tiny regression problem."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")).astype("float32")
    return x, y


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def messages(self, level=logging.DEBUG):
        return [r.getMessage() for r in self.records if r.levelno >= level]


@pytest.fixture
def log_records():
    """Everything logged under `keras_attn` during the test (whatever its propagation)."""
    handler = _Records()
    package_logger = logging.getLogger("keras_attn")
    package_logger.addHandler(handler)
    previous_level = package_logger.level
    package_logger.setLevel(logging.DEBUG)
    yield handler
    package_logger.removeHandler(handler)
    package_logger.setLevel(previous_level)


def _tiny_model(run, optimizer="adam"):
    import keras

    with run.scope():
        model = keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
        )
        model.compile(optimizer=optimizer, loss="mse", jit_compile=run.jit_compile)
    return model


@pytest.fixture
def tiny_model():
    """`tiny_model(run)`: a seeded two-layer Dense net compiled (Adam, MSE) in `run.scope()`."""

    def build(run, optimizer="adam", seed=0):
        import keras

        keras.utils.set_random_seed(seed)
        return _tiny_model(run, optimizer)

    return build


@pytest.fixture
def tiny_dataset(small_dataset):
    """40 examples in 5 batches of 8, in a fixed order (no shuffling)."""
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(small_dataset).batch(8)
