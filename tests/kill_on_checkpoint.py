"""Start a training command and SIGKILL it once it has written a given checkpoint."""

import signal
import subprocess
import time

from keras_attn.training.checkpointing import list_checkpoints


def sigkill_once_checkpointed(command, folder, reached, timeout, poll, env=None):
    """Run `command`; SIGKILL it as soon as a checkpoint in `folder` has a
    `global_step` for which `reached(step)` is true (or after `timeout` s).

    Asserts that the process died of the signal; returns its output so far.
    """
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if any(reached(c["global_step"]) for c in list_checkpoints(str(folder))):
                break
            time.sleep(poll)
    finally:
        process.send_signal(signal.SIGKILL)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL, output[-3000:]
    return output
