"""`train(task, settings)`: the one training entry of every family.

In this order, for every task:

1. The run folder is checked: a finished run of the same settings is left as it is (its
   summary is returned), a finished or unfinished run of other settings is refused with a
   message naming the first difference (nothing a user already had is touched), and a
   finished run asked for more epochs continues from its last checkpoint.
2. The distribution strategy is resolved (`keras_attn.training.TrainingRun`) **before any
   TensorFlow op runs**: `MultiWorkerMirroredStrategy` must configure the runtime first.
3. The chief worker locks the folder (a second training on the same `--out` stops at once)
   and writes `training.json` (task, settings, command line: how to resume).
4. Seed and mixed precision; `task.read_data` (the user's files -> `tf.data`); the model is
   built and compiled in the strategy's scope (`task.build_model`, the optimizer of
   `applications.skeleton.optimization`); the assets are written.
5. `TrainingRun.fit`: checkpoints every `--checkpoint-every` steps and at epoch ends, resume,
   NaN guard, `history.csv`, TensorBoard, `training_curve.png`.
6. `model.keras` is saved atomically, `task.after_training` adds the field's metric, and
   `run.json` is written last: only then does the folder count as a finished run.

A failure before the first checkpoint removes what this command created (a folder that
did not exist is removed whole), so no half-written folder looks like a run; after it, the
checkpoints stay and the same command resumes.
"""

import contextlib
import logging
import os
import sys
import time

from applications.skeleton.console import STOP_REQUEST, stop_at_signal_callback
from applications.skeleton.errors import RunFolderError
from applications.skeleton.init import parse_init
from applications.skeleton.run_folder import MODEL_FILE, RunFolder, command_line_text, library_version
from applications.skeleton.settings import RUNTIME_SETTINGS, TrainSettings

logger = logging.getLogger(__name__)


def _first_difference(recorded, settings):
    """The first model setting that differs between a recorded run and `settings`, or None."""
    for key, value in settings.model_settings().items():
        old = recorded.get(key, value)
        if isinstance(old, (list, tuple)) or isinstance(value, (list, tuple)):
            old, value = list(old or []), list(value or [])
        if old != value and not (key in ("data", "validation_data", "init") and _same_path(old, value)):
            return key, recorded.get(key), value
    return None


def _same_path(a, b):
    if a is None or b is None:
        return a == b
    return os.path.abspath(os.fspath(a)) == os.path.abspath(os.fspath(b))


def _flag(key):
    return "--" + key.replace("_", "-")


def check_folder(folder, task, settings):
    """Step 1 of `train`: `"new"`, `"resume"`, `"continue"` or `"done"` (see the module doc)."""
    status = folder.status()
    if status in ("missing", "empty"):
        return "new"
    if status == "legacy":
        raise RunFolderError(
            f"{folder.path} holds a run written by keras-attn 0.1; train into a new --out (the old run "
            "still loads for evaluate and predict)"
        )
    if status == "broken":
        raise RunFolderError(
            f"{folder.path} holds files but no run (no run.json or training.json); choose another --out or "
            "empty it"
        )
    recorded = (folder.info() if status == "finished" else folder.state()) or {}
    if recorded.get("task") != task.name:
        raise RunFolderError(
            f"{folder.path} holds a {recorded.get('task')} run; this command trains {task.name}: choose another --out"
        )
    difference = _first_difference(recorded.get("training") or recorded.get("settings") or {}, settings)
    if difference is not None:
        key, old, new = difference
        kind = "finished" if status == "finished" else "unfinished"
        raise RunFolderError(
            f"{folder.path} holds a {kind} run trained with {_flag(key)} {old!r}, not {new!r}; choose another "
            "--out to train with other settings (the existing run is left as it is)"
        )
    if status == "resumable":
        return "resume"
    info = folder.info()
    if settings.max_steps:
        more = settings.max_steps > (info.get("summary") or {}).get("steps", settings.max_steps)
    else:
        trained = (info.get("training") or {}).get("epochs")
        more = trained is not None and settings.epochs > trained
    return "continue" if more else "done"


def epoch_plan(steps_per_epoch, epochs, max_steps=None):
    """`(steps per epoch, epochs)` of a run: the data's epochs, or `max_steps` steps split into
    `ceil(max_steps / steps_per_epoch)` epochs of equal length (at most `epochs - 1` steps more).

    >>> epoch_plan(100, 3), epoch_plan(1307, 3, max_steps=2000), epoch_plan(100, 3, max_steps=50)
    ((100, 3), (1000, 2), (50, 1))
    """
    if not max_steps:
        return int(steps_per_epoch), int(epochs)
    epochs = -(-int(max_steps) // int(steps_per_epoch))
    return -(-int(max_steps) // epochs), epochs


def _summary(task, folder, info):
    summary = {"task": task.name, "out": folder.path, "model": folder.model_path}
    summary.update(info.get("summary", {}))
    summary.update(info.get("metrics", {}))
    return summary


def train(task, settings, command_line=None):
    """Train `task` with `settings` (`TrainSettings`); returns the run's summary dict.

    Args:
        task: a `Task`.
        settings: from `resolve_settings` or `settings_from_args`.
        command_line: the command that started the run (recorded, so an interrupted run can
            say how to resume); default `sys.argv`.
    """
    command_line = list(sys.argv if command_line is None else command_line)
    folder = RunFolder(settings.out)
    state = check_folder(folder, task, settings)
    if state == "done":
        logger.info("%s is already a finished run of these settings; nothing to train.", folder.path)
        return _summary(task, folder, folder.info())
    init = parse_init(settings.init)

    before = set(os.listdir(folder.path)) if os.path.isdir(folder.path) else None  # what the user had

    from keras_attn.training import TrainingRun

    run = TrainingRun(  # resolves the strategy first: before any TensorFlow op
        folder.path, strategy=settings.strategy, checkpoint_every_steps=settings.checkpoint_every or None,
        jit_compile=False if settings.no_xla else "auto", steps_per_execution=task.steps_per_execution,
    )
    with folder.lock() if run.is_chief else contextlib.nullcontext():
        try:
            return _train(task, settings, command_line, folder, run, init, state)
        except BaseException:
            if run.is_chief and state == "new":
                folder.remove_new_entries(before)  # keeps everything once a checkpoint exists
            raise


def _train(task, settings, command_line, folder, run, init, state):
    import keras

    from applications.skeleton.optimization import build_optimizer, learning_rate_schedule
    from keras_attn.training import apply_mixed_precision

    started = time.time()
    if run.is_chief:
        folder.write_state({"task": task.name, "family": task.family, "settings": settings.to_dict(),
                            "command_line": command_line, "library_version": library_version()})
    keras.utils.set_random_seed(settings.seed)
    apply_mixed_precision(settings.mixed_precision)
    data = task.read_data(settings, run)
    steps_per_epoch, epochs = epoch_plan(data.steps_per_epoch, settings.epochs, settings.max_steps)
    given, settings = settings, TrainSettings(**dict(settings.to_dict(), epochs=epochs))  # the plan
    with run.scope():
        model = task.build_model(settings, data, init)
        loss, metrics = task.loss_and_metrics(settings, data)
        model.compile(optimizer=build_optimizer(task, settings, steps_per_epoch, run.num_replicas), loss=loss,
                      loss_weights=task.loss_weights(settings, data), metrics=metrics, jit_compile=run.jit_compile)
    _, peak, warmup, total_steps = learning_rate_schedule(task, settings, steps_per_epoch)
    if run.is_chief:
        for name, content in data.assets.items():
            with open(folder.file(name), "wb") as file:
                file.write(content)
    logger.info(
        "%s %s: %d parameters, %d training examples, %d epochs of %d steps (global batch %d, %d replica(s)), "
        "peak learning rate %.3g after %d warm-up steps%s.",
        "Resuming" if state == "resume" else ("Continuing" if state == "continue" else "Training"),
        task.name, model.count_params(), data.num_train_examples, settings.epochs, steps_per_epoch,
        run.global_batch_size(settings.batch_size), run.num_replicas, peak, warmup,
        f", from {init}" if init else "",
    )
    with STOP_REQUEST.while_training():  # Ctrl-C / SIGTERM stop at a batch end (console.py)
        history = run.fit(model, data.train, epochs=settings.epochs, validation_data=data.validation,
                          steps_per_epoch=steps_per_epoch, verbose=settings.verbose,
                          callbacks=[stop_at_signal_callback()])
    run.save_model(model, MODEL_FILE)
    final = {key: float(values[-1]) for key, values in history.history.items() if values}
    metrics = dict(final)
    if run.is_chief:
        metrics.update(task.after_training(model, data, settings))
    summary = {
        "num_parameters": int(model.count_params()),
        "num_train_examples": int(data.num_train_examples),
        "epochs": int(settings.epochs),
        "steps": int(total_steps),
        "global_batch_size": run.global_batch_size(settings.batch_size),
        "num_replicas": run.num_replicas,
        "train_seconds": round(time.time() - started, 1),
    }
    if run.is_chief:
        folder.finish({
            "task": task.name,
            "family": task.family,
            "keras_version": keras.__version__,
            "model_config": task.model_config(settings, data),
            "preprocessing": data.preprocessing,
            "training": dict(given.to_dict(), peak_learning_rate=peak, warmup_steps_used=warmup,
                             recipe=_recipe(task)),
            "metrics": metrics,
            "summary": summary,
            "assets": sorted(data.assets),
            "command_line": command_line,
        })
        logger.info("Finished: %s (resume or continue with: %s)", folder.path, command_line_text(command_line))
    return dict({"task": task.name, "out": folder.path, "model": folder.model_path if run.is_chief else None},
                **summary, **metrics)


def _recipe(task):
    import dataclasses

    return dataclasses.asdict(task.recipe)


__all__ = ["train", "check_folder", "RUNTIME_SETTINGS"]
