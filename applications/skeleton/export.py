"""SavedModel plumbing shared by every family's export.

`write_saved_model(module, signatures, directory)` saves into a temporary sibling folder
and swaps it into place only when the save succeeded, so a failed or interrupted export
never leaves a half-written SavedModel (nor removes an earlier one). The family decides
what the module computes (`Predictor.serving_module`); the SavedModel then loads with
`tf.saved_model.load` in a process that imports neither `keras_attn` nor `applications`.
"""

import logging
import os
import shutil

logger = logging.getLogger(__name__)

SAVED_MODEL_DIR = "saved_model"


def write_saved_model(module, signatures, directory):
    """Save `module` with `signatures` to `directory` (atomically replaced); returns it."""
    import tensorflow as tf

    directory = os.path.abspath(os.fspath(directory))
    parent = os.path.dirname(directory)
    os.makedirs(parent, exist_ok=True)
    staging = f"{directory}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        tf.saved_model.save(module, staging, signatures=signatures)
        previous = f"{directory}.old-{os.getpid()}"
        if os.path.exists(directory):
            os.replace(directory, previous)
        os.replace(staging, directory)
        shutil.rmtree(previous, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("Exported a SavedModel to %s.", directory)
    return directory
