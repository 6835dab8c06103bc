"""Stop training at the first NaN or Inf loss, saying where it happened.

Example:

>>> import numpy as np, keras
>>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> guard = NonFiniteLossGuard()
>>> y = np.array([[1.0], [np.nan], [1.0], [1.0]])
>>> _ = model.fit(np.ones((4, 1)), y, batch_size=1, epochs=2, shuffle=False,
...               callbacks=[guard], verbose=0)
>>> print(guard.error)
Non-finite loss (nan) at global step 2 (epoch 1, batch 2); training stopped.
"""

import logging

import keras
import numpy as np

logger = logging.getLogger(__name__)


class NonFiniteLossError(RuntimeError):
    """Training stopped because the loss became NaN or Inf.

    Attributes:
        global_step: 1-based count of training batches at the bad batch.
        epoch: 1-based epoch of the bad batch.
        batch: 1-based batch within that epoch.
        checkpoint: Path of the last good checkpoint, or `None`.
    """

    def __init__(self, message, global_step=None, epoch=None, batch=None, checkpoint=None):
        super().__init__(message)
        self.global_step = global_step
        self.epoch = epoch
        self.batch = batch
        self.checkpoint = checkpoint


class NonFiniteLossGuard(keras.callbacks.Callback):
    """Sets `model.stop_training` at the first batch whose loss is NaN or Inf.

    The batch's loss log is Keras' running mean over the epoch, so it turns
    non-finite at the first bad batch. The guard logs an error naming the
    global step, the epoch and the batch (all 1-based) and keeps a
    `NonFiniteLossError` in `self.error` for the caller to raise once `fit` has
    returned (`TrainingRun.fit` does).

    Args:
        step_source: Optional `ResumableCheckpoint` of the same `fit`, whose
            `global_step_at(batch)` counts steps across resumed runs and whose
            `last_saved` names the last good checkpoint in the message.
    """

    def __init__(self, step_source=None):
        super().__init__()
        self.step_source = step_source
        self.error = None
        self._epoch = 0
        self._own_step = 0
        self._epoch_start = 0

    def on_train_begin(self, logs=None):
        self.error = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_start = self._own_step

    def on_train_batch_end(self, batch, logs=None):
        if self.step_source is not None:
            step = self.step_source.global_step_at(batch)
        else:
            step = self._epoch_start + int(batch) + 1
            self._own_step = step
        if self.error is not None or not logs or logs.get("loss") is None:
            return
        loss = float(np.asarray(logs["loss"], dtype="float64"))
        if np.isfinite(loss):
            return
        checkpoint = None
        if self.step_source is not None and self.step_source.last_saved is not None:
            checkpoint = self.step_source.last_saved["weights_path"]
        message = (
            f"Non-finite loss ({loss}) at global step {step} "
            f"(epoch {self._epoch + 1}, batch {int(batch) + 1}); training stopped."
        )
        if checkpoint is not None:
            message += f" The last good checkpoint is kept: {checkpoint}"
        elif self.step_source is not None:
            message += " No checkpoint was written before it."
        logger.error(message)
        self.error = NonFiniteLossError(
            message, global_step=step, epoch=self._epoch + 1, batch=int(batch) + 1,
            checkpoint=checkpoint,
        )
        self.model.stop_training = True
