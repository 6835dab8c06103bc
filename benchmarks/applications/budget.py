"""What the application benchmarks share: the wall-clock budget, its schedule, the training call.

Rules every contender follows (ours and the keras-hub twin alike):

- Training goes through `keras_attn.training.TrainingRun.fit` (the applications'
  one training loop: XLA on one device, CSV history, epoch-end checkpoints) in a
  fresh folder, with `TimeBudget` as an extra callback.
- The clock starts when the FIRST train step has finished: tracing, XLA
  compilation and that first step are excluded from the budget (they are
  reported separately as `first_step_seconds`). `TimeBudget` then sets
  `model.stop_training` at the end of the first step that finds the budget
  spent, so a run overshoots by at most one step (plus the epoch-end
  checkpoint Keras writes when it stops).
- Learning-rate schedules with a horizon (the vision and speech applications'
  warm-up + cosine) are planned over the budget instead of a step count:
  `BudgetCosineSchedule` reads the fraction of the budget spent, which
  `TimeBudget` writes into a variable before every step. A faster model thus
  gets more steps of the same schedule, which is what a fixed budget measures.
"""

import datetime
import logging
import math
import os
import platform
import shlex
import sys
import tempfile
import time

import keras
from keras import ops

LOG = logging.getLogger("keras_attn.bench.applications")

MANY_EPOCHS = 1_000_000  # fit's epoch count; the budget stops training long before


class TimeBudget(keras.callbacks.Callback):
    """Stop training once `budget_seconds` have passed since the end of the first step.

    Attributes (after `fit`): `steps` (all train steps, the first included),
    `timed_steps` (steps inside the budget), `train_seconds` (wall time from the
    end of the first step to the end of the last), `first_step_seconds`
    (tracing + compilation + one step), `epochs` (epochs begun).
    """

    def __init__(self, budget_seconds, progress=None):
        super().__init__()
        if not budget_seconds > 0:
            raise ValueError(f"`budget_seconds` must be positive. Received: budget_seconds={budget_seconds}")
        self.budget_seconds = float(budget_seconds)
        self.progress = progress  # a keras.Variable for BudgetCosineSchedule, or None
        self.steps = 0
        self.epochs = 0
        self.start = None
        self.train_seconds = 0.0
        self.first_step_seconds = None

    def on_train_begin(self, logs=None):
        self.fit_start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs += 1

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        self.steps += 1
        if self.start is None:
            self.start = now
            self.first_step_seconds = now - self.fit_start
            return
        self.train_seconds = now - self.start
        if self.progress is not None:
            self.progress.assign(min(1.0, self.train_seconds / self.budget_seconds))
        if self.train_seconds >= self.budget_seconds:
            self.model.stop_training = True

    @property
    def timed_steps(self):
        return max(0, self.steps - 1)

    def summary(self, steps_per_epoch=None):
        """The numbers every benchmark reports about its training run."""
        result = {
            "steps": self.steps,
            "train_seconds": self.train_seconds,
            "first_step_seconds": self.first_step_seconds,
            "steps_per_second": self.timed_steps / self.train_seconds if self.train_seconds else float("nan"),
        }
        if steps_per_epoch:
            result["epochs"] = self.steps / steps_per_epoch
        return result


@keras.saving.register_keras_serializable(package="keras_attn_bench")
class BudgetCosineSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up over the first `warmup_fraction` of the budget, then cosine
    decay to `alpha * peak` at its end; `progress` holds the fraction spent."""

    def __init__(self, peak_learning_rate, progress, warmup_fraction=0.1, alpha=0.0):
        self.peak_learning_rate = float(peak_learning_rate)
        self.progress = progress
        self.warmup_fraction = float(warmup_fraction)
        self.alpha = float(alpha)

    def __call__(self, step):
        p = ops.cast(ops.convert_to_tensor(self.progress), "float32")
        warm = self.warmup_fraction
        rising = p / warm if warm > 0 else ops.ones_like(p)
        decay_progress = ops.clip((p - warm) / max(1e-9, 1.0 - warm), 0.0, 1.0)
        cosine = 0.5 * (1.0 + ops.cos(math.pi * decay_progress))
        falling = self.alpha + (1.0 - self.alpha) * cosine
        # The first step (progress 0) gets a small rate, not zero, as a step-based warm-up's step 1 would.
        rising = ops.maximum(rising, 0.01)
        return self.peak_learning_rate * ops.where(p < warm, rising, falling)

    def get_config(self):
        return {"peak_learning_rate": self.peak_learning_rate, "warmup_fraction": self.warmup_fraction,
                "alpha": self.alpha, "progress": None}


def progress_variable():
    """The variable `TimeBudget` writes and `BudgetCosineSchedule` reads."""
    return keras.Variable(0.0, dtype="float32", trainable=False, name="budget_progress")


def fit_for_budget(model, dataset, budget_seconds, steps_per_epoch=None, progress=None, out_dir=None):
    """Train `model` (built and compiled) on `dataset` through `TrainingRun.fit` until the budget is spent.

    Returns `TimeBudget`'s summary plus `loss` (the last epoch's mean train loss).
    """
    from keras_attn.training import TrainingRun

    out_dir = out_dir or tempfile.mkdtemp(prefix="app_bench_")
    run = TrainingRun(out_dir, strategy="default", checkpoint_every_steps=None)
    budget = TimeBudget(budget_seconds, progress)
    history = run.fit(model, dataset, epochs=MANY_EPOCHS, steps_per_epoch=steps_per_epoch, callbacks=[budget],
                      verbose=0)
    summary = budget.summary(steps_per_epoch)
    losses = history.history.get("loss") or [float("nan")]
    summary["loss"] = float(losses[-1])
    return summary


def machine_facts():
    """Date, machine and load average, for the report."""
    try:
        cpu = next(
            (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo", encoding="utf-8")
             if line.startswith("model name")), platform.processor() or "unknown CPU"
        )
    except OSError:
        cpu = platform.processor() or "unknown CPU"
    import tensorflow as tf

    return {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "versions": f"Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}",
        "load": os.getloadavg(),
        "command": "python " + " ".join(shlex.quote(arg) for arg in [os.path.relpath(sys.argv[0])] + sys.argv[1:]),
    }
