"""A NaN or Inf loss stops TrainingRun.fit with an error naming the step, and the
last good checkpoint survives (no checkpoint of the bad weights is written)."""

import os

import keras
import numpy as np
import pytest

from keras_attn.training import NonFiniteLossError, TrainingRun
from keras_attn.training.checkpointing import list_checkpoints


class PoisonAtStep(keras.callbacks.Callback):
    """Sets the output kernel to `value` just before the `step`-th batch."""

    def __init__(self, step, value):
        super().__init__()
        self.step, self.value, self.seen = step, value, 0

    def on_train_batch_begin(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.step:
            kernel = self.model.layers[-1].kernel
            kernel.assign(np.full(kernel.shape, self.value, "float32"))


@pytest.mark.parametrize("value,shown", [(np.nan, "nan"), (1e30, "inf")])
def test_non_finite_loss_stops_training_and_keeps_last_good_checkpoint(
    tmp_path, tiny_model, tiny_dataset, log_records, value, shown
):
    run = TrainingRun(tmp_path, strategy="default", checkpoint_every_steps=2, jit_compile=False)
    model = tiny_model(run)
    # 5 batches an epoch: step 8 is epoch 2, batch 3. Checkpoints: 2, 4, 5, 6 (kept: 5, 6).
    with pytest.raises(NonFiniteLossError) as caught:
        run.fit(model, tiny_dataset, epochs=4, callbacks=[PoisonAtStep(8, value)], verbose=0)
    error = caught.value
    assert f"Non-finite loss ({shown}) at global step 8 (epoch 2, batch 3)" in str(error)
    assert (error.global_step, error.epoch, error.batch) == (8, 2, 3)
    assert int(model.optimizer.iterations.numpy()) == 8  # stopped right there
    assert any("global step 8" in m for m in log_records.messages(level=40))

    checkpoints = list_checkpoints(run.checkpoint_dir)
    assert [c["global_step"] for c in checkpoints] == [6, 5]
    assert error.checkpoint == checkpoints[0]["weights_path"]
    assert checkpoints[0]["weights_path"] in str(error)
    restored = tiny_model(run)
    restored.optimizer.build(restored.trainable_variables)
    restored.load_weights(checkpoints[0]["weights_path"])
    assert all(np.isfinite(w).all() for w in restored.get_weights())
    # Records are still written for the epochs before the stop.
    assert os.path.exists(run.history_path) and os.path.exists(run.curve_path)


def test_nan_in_first_step_reports_no_checkpoint(tmp_path, tiny_model, tiny_dataset):
    run = TrainingRun(tmp_path, strategy="default", checkpoint_every_steps=2, jit_compile=False)
    with pytest.raises(NonFiniteLossError, match="global step 1 .*No checkpoint was written"):
        run.fit(tiny_model(run), tiny_dataset, epochs=1, callbacks=[PoisonAtStep(1, np.nan)], verbose=0)
    assert list_checkpoints(run.checkpoint_dir) == []
