"""Work-arounds for Keras bugs that break `MultiWorkerMirroredStrategy` training.

Measured on Keras 3.15.1 with TensorFlow 2.21 and two CPU workers on localhost,
`model.fit` under `MultiWorkerMirroredStrategy` fails twice:

1. `symbolic_build`: `TensorFlowTrainer._maybe_symbolic_build` reduces the first
   per-replica data batch across workers with `strategy.reduce("MEAN", ...,
   axis=None)` only to learn its shapes, which fails with
   `ValueError: Attempt to convert a value (PerReplica:{...}) ... to a Tensor`.
   The patch builds from the first local replica's batch instead (same shapes).
2. `scalar_reduce`: `reduce_per_replica` reduces every per-replica log with
   `strategy.reduce("MEAN", v, axis=0)`, which fails on scalar logs (loss,
   metrics) with `Invalid reduction dimension 0 for input with 0 dimensions`.
   The patch reduces scalars with `axis=None` (the mean over replicas) and
   leaves everything else to Keras.

With both patches a small model trains on both workers with equal losses.
`apply()` installs them only for the Keras versions in `AFFECTED_VERSIONS` and
only changes behaviour in multi-worker mode; it is idempotent. The test
`tests/keras_attn/training/test_compat.py` runs the two-worker job with each
patch left out and fails once Keras no longer needs it. The environment
variable `KERAS_ATTN_SKIP_COMPAT` (`all`, or a comma-separated list of patch
names) leaves patches out, for that test.

Example:

>>> is_affected("3.15.1"), is_affected("2.15.0")
(True, False)
"""

import functools
import logging
import os

import keras

logger = logging.getLogger(__name__)

# Half-open range [low, high) of Keras versions that need the patches: the bugs
# were measured on 3.15.1; raise `high` after checking a newer release.
AFFECTED_VERSIONS = ((3, 0), (3, 16))

PATCH_NAMES = ("symbolic_build", "scalar_reduce")

_applied = set()


def _version_tuple(version):
    parts = []
    for piece in str(version).split("."):
        digits = ""
        for char in piece:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def is_affected(version=None):
    """Whether Keras `version` (default: the installed one) needs the patches."""
    version = _version_tuple(keras.__version__ if version is None else version)
    low, high = AFFECTED_VERSIONS
    return low <= version < high


def _skipped():
    value = os.environ.get("KERAS_ATTN_SKIP_COMPAT", "")
    names = {name.strip() for name in value.split(",") if name.strip()}
    return set(PATCH_NAMES) if "all" in names else names


def apply():
    """Install the patches this Keras version needs; return the names installed."""
    if keras.backend.backend() != "tensorflow" or not is_affected():
        return set()
    from keras.src.backend.tensorflow import trainer as tf_trainer

    wanted = set(PATCH_NAMES) - _skipped() - _applied
    if "symbolic_build" in wanted and hasattr(tf_trainer.TensorFlowTrainer, "_maybe_symbolic_build"):
        _patch_symbolic_build(tf_trainer)
        _applied.add("symbolic_build")
    if "scalar_reduce" in wanted and hasattr(tf_trainer, "reduce_per_replica"):
        _patch_scalar_reduce(tf_trainer)
        _applied.add("scalar_reduce")
    if wanted:
        logger.debug("Keras %s compatibility patches installed: %s", keras.__version__, sorted(wanted))
    return set(_applied)


def applied():
    """Names of the patches installed in this process."""
    return set(_applied)


def _in_multi_worker_mode(strategy):
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and bool(
        strategy.extended._in_multi_worker_mode()
    )


def _patch_symbolic_build(tf_trainer):
    import tensorflow as tf
    from keras.src import tree

    original = tf_trainer.TensorFlowTrainer._maybe_symbolic_build

    @functools.wraps(original)
    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        strategy = self._distribute_strategy
        if iterator is None or strategy is None or not _in_multi_worker_mode(strategy):
            return original(self, iterator=iterator, data_batch=data_batch)
        for _, _, it in iterator:
            batch = next(it)
            break
        else:  # an empty dataset: let Keras report it
            return original(self, iterator=iterator, data_batch=data_batch)

        def first_local(value):
            if isinstance(value, tf.distribute.DistributedValues):
                return strategy.experimental_local_results(value)[0]
            return value

        return original(self, iterator=None, data_batch=tree.map_structure(first_local, batch))

    tf_trainer.TensorFlowTrainer._maybe_symbolic_build = _maybe_symbolic_build


def _patch_scalar_reduce(tf_trainer):
    import tensorflow as tf
    from keras.src import tree

    original = tf_trainer.reduce_per_replica

    @functools.wraps(original)
    def reduce_per_replica(values, strategy, reduction):
        if reduction not in ("auto", "mean") or not _in_multi_worker_mode(strategy):
            return original(values, strategy, reduction)

        def _reduce(value):
            if isinstance(value, tf.distribute.DistributedValues):
                rank = strategy.experimental_local_results(value)[0].shape.rank
            else:
                rank = getattr(getattr(value, "shape", None), "rank", None)
            if rank == 0:
                return strategy.reduce("MEAN", value, axis=None)
            return original(value, strategy, reduction)

        return tree.map_structure(_reduce, values)

    tf_trainer.reduce_per_replica = reduce_per_replica
