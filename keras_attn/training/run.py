"""`TrainingRun`: the one training loop every keras_attn application uses.

A run owns an output folder and a distribution strategy. Applications build
and compile their model inside `run.scope()`, then call `run.fit`, which wraps
`model.fit` with everything a long training job needs:

- `out_dir/checkpoints/`: `ResumableCheckpoint` (every `checkpoint_every_steps`
  steps and every epoch, atomic writes, fallback from a corrupt checkpoint);
  a run started again with the same `out_dir` resumes where it stopped.
- A NaN/Inf loss stops training and `fit` raises `NonFiniteLossError` naming
  the step; the last good checkpoint is kept.
- `out_dir/history.csv` (appended across resumes), `out_dir/tensorboard/`,
  and `out_dir/training_curve.png` drawn from the CSV when `fit` ends.

Only the chief writes files; the other workers of a multi-worker job write
nothing in `out_dir` (which must be shared by all workers for them to resume).

`jit_compile` is `True` on the default/one-device strategy and on TPU, and
`False` under `MirroredStrategy` and `MultiWorkerMirroredStrategy`: XLA cannot
compile their cross-device collectives on CPU ("Collectives are not yet
implemented for CPU devices when compiling with XLA") and `MirroredStrategy`
over two logical CPU devices fails with `jit_compile=True`.

Example:

>>> import tempfile, numpy as np, keras
>>> run = TrainingRun(tempfile.mkdtemp(), strategy="default", checkpoint_every_steps=2)
>>> run.num_replicas, run.is_chief, run.jit_compile, run.global_batch_size(8)
(1, True, True, 8)
>>> with run.scope():
...     model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
...     model.compile(optimizer="sgd", loss="mse", jit_compile=run.jit_compile)
>>> history = run.fit(model, (np.ones((8, 3)), np.ones((8, 1))), epochs=2, verbose=0)
>>> sorted(os.listdir(run.out_dir))
['checkpoints', 'history.csv', 'tensorboard', 'training_curve.png']
>>> os.path.basename(run.save_model(model, "model.keras"))
'model.keras'
"""

import logging
import os

import keras
import tensorflow as tf

from keras_attn.training import compat
from keras_attn.training._logging import ensure_visible_logging
from keras_attn.training.checkpointing import ResumableCheckpoint
from keras_attn.training.curves import write_training_curve
from keras_attn.training.nan_guard import NonFiniteLossGuard
from keras_attn.training.strategy import is_chief, resolve_strategy, strategy_kind

logger = logging.getLogger(__name__)

_NO_XLA_KINDS = ("mirrored", "multi-worker")


def _tensorboard_installed():
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


class TrainingRun:
    """A training job's output folder, strategy and fault-tolerant `fit`.

    Args:
        out_dir: Output folder (created on the chief).
        strategy: A `tf.distribute.Strategy`, or a name for `resolve_strategy`
            (`"auto"`, `"default"`, `"mirrored"`, `"multi-worker"`, `"tpu"`).
        checkpoint_every_steps: Also checkpoint every this many steps inside an
            epoch (`None` or 0: at epoch ends only).
        jit_compile: `"auto"`, `True` or `False`; pass `run.jit_compile` to
            `model.compile`. `True` is turned into `False` (with a warning)
            under mirrored and multi-worker strategies.
        keep_checkpoints: Newest checkpoints kept (at least 2).
        steps_per_execution: Train up to this many steps in each call of the
            compiled train function (Keras' `steps_per_execution`): the steps
            run back to back inside TensorFlow, the next batch is fetched
            while a step runs, and Python (callbacks, progress bar) runs once
            per call. `fit` uses the largest divisor of its `steps_per_epoch`
            up to this number, so every epoch has exactly its planned steps
            (1 without `steps_per_epoch`); batch-level callbacks then see one
            batch end per call, and a mid-epoch checkpoint is written at the
            first call that ends at or after each `checkpoint_every_steps`.
            `1` (the default) leaves the model's own setting as compiled.
            Under mirrored and multi-worker strategies one step per call is
            used (Keras' multi-step function fails there).

    Attributes:
        strategy, num_replicas, is_chief, jit_compile, steps_per_execution,
        out_dir, checkpoint_dir, history_path, tensorboard_dir, curve_path.
    """

    def __init__(
        self,
        out_dir,
        strategy="auto",
        checkpoint_every_steps=100,
        jit_compile="auto",
        keep_checkpoints=2,
        steps_per_execution=1,
    ):
        ensure_visible_logging()
        if isinstance(steps_per_execution, bool) or not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(
                f"`steps_per_execution` must be a positive int. Received: steps_per_execution={steps_per_execution!r}"
            )
        compat.apply()
        self.out_dir = os.path.abspath(os.fspath(out_dir))
        self.strategy = resolve_strategy(strategy)
        self.strategy_kind = strategy_kind(self.strategy)
        self.num_replicas = int(self.strategy.num_replicas_in_sync)
        self.is_chief = is_chief(self.strategy)
        self.checkpoint_every_steps = checkpoint_every_steps
        self.keep_checkpoints = keep_checkpoints
        self.steps_per_execution = steps_per_execution
        self.jit_compile = self._resolve_jit_compile(jit_compile)
        self.checkpoint_dir = os.path.join(self.out_dir, "checkpoints")
        self.history_path = os.path.join(self.out_dir, "history.csv")
        self.tensorboard_dir = os.path.join(self.out_dir, "tensorboard")
        self.curve_path = os.path.join(self.out_dir, "training_curve.png")
        if self.is_chief:
            os.makedirs(self.out_dir, exist_ok=True)

    def _resolve_jit_compile(self, jit_compile):
        if jit_compile not in ("auto", True, False):
            raise ValueError(
                f"`jit_compile` must be 'auto', True or False. Received: jit_compile={jit_compile!r}"
            )
        if self.strategy_kind in _NO_XLA_KINDS:
            reason = (
                f"the train step runs without XLA under the {self.strategy_kind} strategy "
                "(XLA cannot compile its cross-device collectives on CPU)"
            )
            if jit_compile is True:
                logger.warning("jit_compile=True ignored: %s.", reason)
            else:
                logger.info("jit_compile off: %s.", reason)
            return False
        if jit_compile == "auto":
            return True
        return bool(jit_compile)

    def scope(self):
        """The strategy's scope: build and compile the model inside it."""
        return self.strategy.scope()

    def global_batch_size(self, per_replica_batch_size):
        """The batch size to give the dataset: per-replica size times replicas."""
        return int(per_replica_batch_size) * self.num_replicas

    def fit(
        self,
        model,
        train_dataset,
        epochs,
        validation_data=None,
        steps_per_epoch=None,
        callbacks=(),
        verbose="auto",
    ):
        """`model.fit` with checkpoint/resume, NaN guard and records; see the class doc.

        `train_dataset` is a `tf.data.Dataset` batched with
        `global_batch_size(...)` (or anything `model.fit` takes as `x`, such
        as an `(x, y)` tuple of arrays). Returns the `keras.callbacks.History`
        of this call (resumed runs: the epochs trained now; `history.csv` holds
        them all). Raises `NonFiniteLossError` when the loss became NaN/Inf.
        """
        if self.strategy_kind in _NO_XLA_KINDS and getattr(model, "_jit_compile", None):
            logger.warning(
                "The model was compiled with jit_compile=True; turning it off under the %s "
                "strategy (use jit_compile=run.jit_compile).",
                self.strategy_kind,
            )
            model.jit_compile = False
            model.train_function = None
        self._set_steps_per_call(model, steps_per_epoch)
        self._ensure_built(model, train_dataset)
        checkpoint = ResumableCheckpoint(
            self.checkpoint_dir,
            save_every_steps=self.checkpoint_every_steps,
            keep=self.keep_checkpoints,
            write=self.is_chief,
        )
        guard = NonFiniteLossGuard(step_source=checkpoint)
        all_callbacks = [guard, *callbacks]
        if self.is_chief:
            all_callbacks.append(keras.callbacks.CSVLogger(self.history_path, append=True))
            if _tensorboard_installed():
                all_callbacks.append(
                    keras.callbacks.TensorBoard(self.tensorboard_dir, write_graph=False)
                )
            else:
                logger.warning(
                    "The tensorboard package is not installed: no TensorBoard logs in %s.",
                    self.tensorboard_dir,
                )
        # Last, so an epoch's CSV row is written before its checkpoint commits.
        all_callbacks.append(checkpoint)
        x, y = train_dataset, None
        if isinstance(train_dataset, tuple) and len(train_dataset) == 2:
            x, y = train_dataset
        history = model.fit(
            x,
            y,
            epochs=epochs,
            validation_data=validation_data,
            steps_per_epoch=steps_per_epoch,
            shuffle=not isinstance(x, tf.data.Dataset),  # datasets shuffle themselves
            callbacks=all_callbacks,
            verbose=verbose,
        )
        if self.is_chief:
            write_training_curve(self.history_path, self.curve_path)
        if guard.error is not None:
            raise guard.error
        return history

    def steps_per_call(self, steps_per_epoch):
        """Steps per call of the train function for epochs of `steps_per_epoch` steps: the
        largest divisor of it up to `steps_per_execution` (1 when it is `None`).

        >>> import tempfile
        >>> run = TrainingRun(tempfile.mkdtemp(), strategy="default", steps_per_execution=10)
        >>> run.steps_per_call(1000), run.steps_per_call(585), run.steps_per_call(7), run.steps_per_call(None)
        (10, 9, 7, 1)
        """
        if not steps_per_epoch:
            return 1
        steps_per_epoch = int(steps_per_epoch)
        return max(k for k in range(1, min(self.steps_per_execution, steps_per_epoch) + 1) if steps_per_epoch % k == 0)

    def _set_steps_per_call(self, model, steps_per_epoch):
        if self.steps_per_execution == 1:
            return  # the model's own compile setting
        per_call = self.steps_per_call(steps_per_epoch)
        if self.strategy_kind in _NO_XLA_KINDS and per_call > 1:
            # Keras 3.15's multi-step train function fails under these strategies ("You must feed
            # a value for placeholder tensor ... while/cond/Placeholder_1", measured with two
            # workers on CPU): one step per call there.
            logger.info("One step per call of the train function under the %s strategy (steps_per_execution=%d "
                        "is not supported there).", self.strategy_kind, self.steps_per_execution)
            per_call = 1
        if int(getattr(model, "steps_per_execution", 1) or 1) != per_call:
            model.steps_per_execution = per_call
            model.train_function = model.test_function = None  # rebuilt with the new setting
        logger.info("Training %d step(s) per call of the compiled train function (steps_per_execution).", per_call)

    def _ensure_built(self, model, data):
        """Build a model that has not seen data yet, so a checkpoint can load into it."""
        if model.built:
            return
        if isinstance(data, tf.data.Dataset):
            batch = next(iter(data.take(1)))
        elif isinstance(data, (tuple, list)):
            batch = tuple(tf.nest.map_structure(lambda a: a[:1], data))
        else:
            return  # leave it to Keras; ResumableCheckpoint explains if it matters
        x, _, _ = keras.utils.unpack_x_y_sample_weight(batch)
        with self.scope():
            model(x)

    def save_model(self, model, filename="model.keras"):
        """Save `model` as `out_dir/filename` on the chief (atomically); return the
        path, or `None` on the other workers, which write nothing."""
        if not self.is_chief:
            return None
        path = filename if os.path.isabs(filename) else os.path.join(self.out_dir, filename)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        stem, extension = os.path.splitext(path)
        tmp = f"{stem}.tmp-{os.getpid()}{extension}"
        model.save(tmp)
        os.replace(tmp, path)
        logger.info("Saved the model to %s.", path)
        return path
