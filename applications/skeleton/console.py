"""What a command-line tool owes its terminal: a quiet start and a clean stop.

- `quiet_startup(verbose)`: before TensorFlow is imported, turn off its C++ logging
  (`TF_CPP_MIN_LOG_LEVEL`: `cuInit` errors, `cpu_feature_guard`) and the Python warnings of
  dependencies, unless `-v` asks for everything.
- `import_tensorflow_quietly()`: import TensorFlow and Keras with the process's stderr (file
  descriptor 2) captured, then write back only what is not start-up noise. TensorFlow's
  shared libraries print some lines (oneDNN, CUDA stubs, "All log messages before
  absl::InitializeLog()") while they load, before any logging setting applies; no
  environment variable silences those.
- `handle_termination()` and `STOP_REQUEST`: SIGINT (Ctrl-C) and SIGTERM raise
  `RunInterrupted`, so both stop a command through the same path (one line, no traceback; a
  training run keeps its last checkpoint and resumes with the same command). While a model
  trains (`STOP_REQUEST.while_training()`), the first signal is kept until the running step
  ends and `StopAtSignal` raises it at the batch end, so it never lands inside a checkpoint
  write or a library's `except Exception`; a second signal stops at once.
"""

import contextlib
import logging
import os
import re
import signal
import sys
import tempfile
import warnings

from applications.skeleton.errors import RunInterrupted

# TensorFlow's C++ logging: 0 all, 1 no INFO, 2 no WARNING, 3 no ERROR.
_QUIET_TF_LOG_LEVEL = "3"
_OUR_PACKAGES = ("applications", "keras_attn")
# Lines TensorFlow's libraries print while loading (and glog/absl-formatted lines in general).
_STARTUP_NOISE = re.compile(
    r"All log messages before absl::InitializeLog|^[IWE]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\]|oneDNN custom operations|"
    r"cuda drivers|cuInit|cpu_feature_guard|rebuild TensorFlow with the appropriate compiler flags|"
    r"To enable the following instructions|Unable to register cu(DNN|FFT|BLAS) factory|TF-TRT Warning"
)


def quiet_startup(verbose=False):
    """Silence TensorFlow's and the dependencies' start-up noise unless `verbose`.

    Must run before TensorFlow is imported (TensorFlow reads `TF_CPP_MIN_LOG_LEVEL` once).
    An explicit `TF_CPP_MIN_LOG_LEVEL` in the environment is respected.
    """
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", _QUIET_TF_LOG_LEVEL)
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore")
    for package in _OUR_PACKAGES:  # our own warnings stay visible
        warnings.filterwarnings("default", module=rf"{package}(\.|$)")
    for name in ("absl", "tensorflow", "h5py", "numba", "matplotlib"):
        logging.getLogger(name).setLevel(logging.ERROR)


class StopRequest:
    """The process's stop signals (see the module doc); one instance, `STOP_REQUEST`, because
    signal handlers belong to the process.

    >>> request = StopRequest()
    >>> request.check()  # nothing asked: returns
    >>> with request.while_training():
    ...     request.handle(signal.SIGTERM, None)  # kept: the step finishes first
    >>> request.check()
    Traceback (most recent call last):
    ...
    applications.skeleton.errors.RunInterrupted: stopped by SIGTERM
    """

    def __init__(self):
        self.signal_name = None
        self._training = 0

    def handle(self, signum, frame):
        name = signal.Signals(signum).name
        if self._training and self.signal_name is None:
            self.signal_name = name
            sys.stderr.write(f"\n{name}: stopping when this training step ends ({name} again stops at once).\n")
            return
        raise RunInterrupted(name)

    @contextlib.contextmanager
    def while_training(self):
        """Defer the first signal to the next `check()` inside this block."""
        self._training += 1
        try:
            yield
        finally:
            self._training -= 1

    def check(self):
        """Raise `RunInterrupted` if a signal asked to stop."""
        if self.signal_name is not None:
            raise RunInterrupted(self.signal_name)


STOP_REQUEST = StopRequest()


def handle_termination():
    """Make SIGINT and SIGTERM stop the process through `RunInterrupted` (main thread only)."""
    signal.signal(signal.SIGINT, STOP_REQUEST.handle)
    signal.signal(signal.SIGTERM, STOP_REQUEST.handle)


def stop_at_signal_callback():
    """A Keras callback that raises a kept stop signal at the next batch or epoch end."""
    import keras

    class StopAtSignal(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            STOP_REQUEST.check()

        on_test_batch_end = on_epoch_end = on_train_batch_end

    return StopAtSignal()


def import_tensorflow_quietly():
    """Import TensorFlow and Keras, keeping their load-time lines off the terminal (see the
    module doc); anything else written to stderr meanwhile is passed through."""
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras  # noqa: F401  (imports the TensorFlow backend)
            import tensorflow  # noqa: F401
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode("utf-8", "replace").splitlines():
                if line.strip() and not _STARTUP_NOISE.search(line):
                    sys.stderr.write(line + "\n")
