"""What a command-line tool owes its terminal: a quiet start and a clean stop.

- `quiet_startup(verbose)`: before TensorFlow is imported, turn off its C++ logging
  (`TF_CPP_MIN_LOG_LEVEL`: `cuInit` errors, `cpu_feature_guard`) and the Python warnings of
  dependencies, unless `-v` asks for everything.
- `import_tensorflow_quietly()`: import TensorFlow and Keras with the process's stderr (file
  descriptor 2) captured, then write back only what is not start-up noise. TensorFlow's
  shared libraries print some lines (oneDNN, CUDA stubs, "All log messages before
  absl::InitializeLog()") while they load, before any logging setting applies; no
  environment variable silences those.
- `handle_termination()`: SIGTERM raises `RunInterrupted` like Ctrl-C raises
  `KeyboardInterrupt`, so both stop a command through the same path (one line, no
  traceback; a training run keeps its last checkpoint and resumes with the same command).
"""

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


def _raise_interrupted(signum, frame):
    raise RunInterrupted(signal.Signals(signum).name)


def handle_termination():
    """Make SIGTERM stop the process through `RunInterrupted` (main thread only)."""
    signal.signal(signal.SIGTERM, _raise_interrupted)


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
