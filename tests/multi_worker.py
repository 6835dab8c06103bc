"""Running a `MultiWorkerMirroredStrategy` job of several local processes (tests only).

`run_workers(commands, timeout)` starts one process per command with a `TF_CONFIG` that
names every worker on a free localhost port, collects each one's output, and kills the rest
once one fails (the others would wait forever in a collective).
"""

import json
import os
import socket
import subprocess
import threading
import time


def subprocess_env(**extra):
    """The environment of a test subprocess: CPU only, quiet TensorFlow, no TF_CONFIG."""
    env = dict(os.environ)
    env.update(CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    env.pop("TF_CONFIG", None)
    env.pop("KERAS_ATTN_SKIP_COMPAT", None)
    env.update(extra)
    return env


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


def run_workers(commands, timeout, extra_env=None, stop_when=None, cwd=None):
    """Run `commands` (one argv list per worker) as one multi-worker job.

    Returns `[(returncode, output), ...]` per worker (stdout and stderr together). When a
    worker fails, or any output contains `stop_when`, every worker still running is killed
    after 2 s (to finish reporting), as is everything still running at `timeout`; a killed
    worker's returncode is negative.
    """
    ports = free_ports(len(commands))
    processes, buffers, readers = [], [], []
    for index, command in enumerate(commands):
        env = subprocess_env(TF_CONFIG=tf_config(ports, index), **(extra_env or {}))
        process = subprocess.Popen(
            [str(part) for part in command], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
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
