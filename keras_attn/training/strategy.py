"""Choosing the `tf.distribute` strategy, once, for a training run.

`resolve_strategy(name)` turns the `--strategy` flag of every trainer into a
strategy object:

- `"auto"`: a `TPUStrategy` when a TPU is found, a `MultiWorkerMirroredStrategy`
  when `TF_CONFIG` names a cluster of several tasks, a `MirroredStrategy` when
  there are several GPUs, else the default (one-device) strategy.
- `"default"`: the default strategy (whatever single device TF places ops on).
- `"mirrored"`: `MirroredStrategy` over all GPUs, or over all logical CPU
  devices when there is no GPU (tests split the CPU in two this way).
- `"multi-worker"`: `MultiWorkerMirroredStrategy` (reads `TF_CONFIG`).
- `"tpu"`: `TPUStrategy`; fails when no TPU can be reached.

The strategy must be resolved before anything else touches TensorFlow's devices
(`MultiWorkerMirroredStrategy` and `TPUStrategy` both configure the runtime).

Example:

>>> strategy = resolve_strategy("default")
>>> strategy.num_replicas_in_sync
1
>>> strategy_kind(strategy)
'default'
"""

import json
import logging
import os

import tensorflow as tf

from keras_attn.training._logging import ensure_visible_logging

logger = logging.getLogger(__name__)

STRATEGY_NAMES = ("auto", "default", "mirrored", "multi-worker", "tpu")

# Strategies already made in this process, by name. A multi-worker or TPU
# strategy configures the TensorFlow runtime and can be made only once, so a
# name resolves to the same object however often it is asked for.
_RESOLVED = {}


def resolve_strategy(name="auto"):
    """Return the `tf.distribute.Strategy` named by `name` (see the module doc).

    A strategy object is passed through unchanged; a name resolves to the same
    object each time in a process. Raises `ValueError` for an unknown name and
    `RuntimeError` when `"tpu"` is asked for but none is found.
    """
    if isinstance(name, tf.distribute.Strategy):
        return name
    ensure_visible_logging()
    if name is None:
        name = "auto"
    if not isinstance(name, str) or name.replace("_", "-").lower() not in STRATEGY_NAMES:
        raise ValueError(
            f"Unknown strategy. Expected one of: {', '.join(STRATEGY_NAMES)}. "
            f"Received: name={name!r}"
        )
    name = name.replace("_", "-").lower()
    if name in _RESOLVED:
        return _RESOLVED[name]
    if name == "auto":
        strategy = _auto_strategy()
    elif name == "default":
        strategy = tf.distribute.get_strategy()
    elif name == "mirrored":
        strategy = _mirrored_strategy()
    elif name == "multi-worker":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        strategy = _tpu_strategy(required=True)
    logger.info(
        "Distribution strategy: %s (%s), %d replica(s) in sync.",
        strategy_kind(strategy),
        type(strategy).__name__,
        strategy.num_replicas_in_sync,
    )
    _RESOLVED[name] = strategy
    return strategy


def strategy_kind(strategy):
    """`"default"`, `"mirrored"`, `"multi-worker"`, `"tpu"` or `"one-device"`."""
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return "multi-worker"
    if isinstance(strategy, tf.distribute.MirroredStrategy):
        return "mirrored"
    if _is_tpu_strategy(strategy):
        return "tpu"
    if isinstance(strategy, tf.distribute.OneDeviceStrategy):
        return "one-device"
    return "default"


def is_chief(strategy):
    """Whether this process is the one that writes files for the whole run.

    True everywhere except on the non-chief workers of a multi-worker cluster:
    the task of type `chief`, or worker 0 when the cluster has no `chief` task.
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type is None or task_type == "chief":
        return True
    cluster = resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and "chief" not in cluster


def _is_tpu_strategy(strategy):
    return any(cls.__name__.startswith("TPUStrategy") for cls in type(strategy).__mro__)


def _tf_config_cluster_size():
    try:
        config = json.loads(os.environ.get("TF_CONFIG", "") or "{}")
    except ValueError:
        return 0
    cluster = config.get("cluster") or {}
    return sum(len(tasks) for role, tasks in cluster.items() if role != "ps")


def _tpu_available():
    """Cheap test: a TPU attached to this VM, or one named in the environment."""
    if any(name in os.environ for name in ("TPU_NAME", "KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS")):
        return True
    try:
        return bool(tf.config.list_physical_devices("TPU"))
    except Exception:  # pragma: no cover - depends on the installed runtime
        return False


def _tpu_strategy(required):
    local = bool(tf.config.list_physical_devices("TPU"))
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="local" if local else None)
        if not local:
            tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        if required:
            raise RuntimeError(f"--strategy tpu: no TPU could be reached ({error}).") from error
        logger.warning("A TPU seemed present but could not be initialised (%s).", error)
        return None
    return tf.distribute.TPUStrategy(resolver)


def _auto_strategy():
    if _tpu_available():
        strategy = _tpu_strategy(required=False)
        if strategy is not None:
            return strategy
    if _tf_config_cluster_size() > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy([device.name for device in gpus])
    return tf.distribute.get_strategy()


def _mirrored_strategy():
    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
        return tf.distribute.MirroredStrategy([device.name for device in gpus])
    cpus = tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([device.name for device in cpus])
