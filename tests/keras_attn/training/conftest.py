"""Fixtures for the tests of keras_attn.training.

Helpers reach the tests through the `helpers` fixture (not by importing this
file, which pytest's importlib mode does not allow reliably).
"""

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import types

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN_SCRIPT = os.path.join(HERE, "_tiny_train_script.py")


def subprocess_env(**extra):
    """The environment of a test subprocess: CPU only, quiet TensorFlow."""
    env = dict(os.environ)
    env.update(CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    env.pop("TF_CONFIG", None)
    env.pop("KERAS_ATTN_SKIP_COMPAT", None)
    env.update(extra)
    return env


def script_command(*args, script=TRAIN_SCRIPT):
    return [sys.executable, script, *map(str, args)]


def parse_result(output):
    """The JSON of the `RESULT {...}` line a script printed, or `None`."""
    for line in reversed(output.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    return None


def free_ports(count):
    """`count` distinct free TCP ports on localhost (bound to port 0, then released)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("localhost", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(ports, index):
    return json.dumps(
        {
            "cluster": {"worker": [f"localhost:{port}" for port in ports]},
            "task": {"type": "worker", "index": index},
        }
    )


def run_workers(out_dirs, timeout, extra_env=None, script_args=(), stop_when=None):
    """Run the tiny script as a two-worker `MultiWorkerMirroredStrategy` job.

    Returns `[(returncode, output), ...]` per worker. When a worker fails, or
    any output contains `stop_when`, the others may wait forever in a
    collective: after 2 s (to finish reporting) every worker still running is
    killed, as is everything still running at `timeout`. A killed worker's
    returncode is negative.
    """
    ports = free_ports(len(out_dirs))
    processes, buffers, readers = [], [], []
    for index, out_dir in enumerate(out_dirs):
        env = subprocess_env(TF_CONFIG=tf_config(ports, index), **(extra_env or {}))
        process = subprocess.Popen(
            script_command("--out", out_dir, "--strategy", "multi-worker", *script_args),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        buffer = []
        reader = threading.Thread(target=lambda p=process, b=buffer: b.extend(p.stdout), daemon=True)
        reader.start()
        processes.append(process)
        buffers.append(buffer)
        readers.append(reader)

    def failing():
        if any(p.poll() not in (None, 0) for p in processes):
            return True
        return stop_when is not None and any(stop_when in "".join(b) for b in buffers)

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(p.poll() is None for p in processes):
        if failing():
            time.sleep(2)
            break
        time.sleep(0.1)
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()
    for reader in readers:
        reader.join(timeout=10)
    return [(p.returncode, "".join(b)) for p, b in zip(processes, buffers)]


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
