"""Fault-tolerant training checkpoints: write atomically, resume mid-epoch.

`ResumableCheckpoint` is a Keras callback that saves the whole training state
(model weights, optimizer variables including its step counter, the epoch and
the batch within it) every `save_every_steps` steps and at the end of every
epoch, and restores the newest intact checkpoint when `fit` starts.

Why not `keras.callbacks.BackupAndRestore` (Keras 3.15.1)? It writes the
weights file in place, so a kill during the write leaves a half-written latest
checkpoint, and writes the epoch/batch JSON separately after it; it falls back to
the previous checkpoint (`double_checkpoint=True`) only on `OSError` and without
saying so; on a mid-epoch checkpoint it restores the epoch but ignores the
batch, so the interrupted epoch is trained again from its first batch (more
steps than planned); and every worker of a multi-worker job writes the same
files. This callback keeps its idea and fixes those points:

- Each checkpoint is `ckpt-<global step>.weights.h5` plus a manifest
  `ckpt-<global step>.json` (epoch, batch, global step, file size, SHA-256). The
  weights are written to a temporary file, flushed and renamed into place, then
  the manifest is written the same way: a checkpoint exists only once its
  manifest does, so a kill at any moment leaves the previous one intact. The
  newest `keep` checkpoints are kept.
- On restore the newest checkpoint whose size and checksum match its manifest is
  loaded; a truncated or corrupt one is named in a warning, moved to
  `corrupt/`, and the previous one is used. A checkpoint that is intact but
  does not fit the model is an error (the model or its optimizer changed).
- A mid-epoch checkpoint resumes at the next batch of that epoch: `fit` starts
  at the saved epoch (so the progress bar reads `Epoch 3/6`), and the batches
  the interrupted run already trained on are drawn from the data and skipped, so
  the run ends after exactly the planned number of steps.
- A non-finite loss is never checkpointed: once a batch reports a NaN/Inf loss
  no further checkpoint is written, so the last good one survives.
- `write=False` (non-chief workers) restores but never writes.

The checkpoint directory must be on a file system every worker can read.

Example:

>>> import tempfile, numpy as np, keras
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> folder = tempfile.mkdtemp()
>>> checkpoint = ResumableCheckpoint(folder, save_every_steps=2)
>>> _ = model.fit(np.ones((8, 2)), np.ones((8, 1)), batch_size=2, epochs=1,
...               callbacks=[checkpoint], verbose=0)
>>> [c["global_step"] for c in list_checkpoints(folder)]
[4, 2]
"""

import hashlib
import json
import logging
import math
import os
import time

import keras
import numpy as np

logger = logging.getLogger(__name__)

_PREFIX = "ckpt-"
_WEIGHTS_SUFFIX = ".weights.h5"
_MANIFEST_SUFFIX = ".json"


class CheckpointMismatchError(RuntimeError):
    """An intact checkpoint could not be loaded into the model."""


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_file(path):
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _write_json_atomically(path, data):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def list_checkpoints(directory):
    """Manifests of the committed checkpoints in `directory`, newest first.

    Each item is the manifest dict plus `"manifest_path"` and `"weights_path"`.
    A manifest that cannot be parsed is returned as `{"global_step": <from its
    name>, "manifest_path": ..., "error": "..."}` so callers can report it.
    """
    if not os.path.isdir(directory):
        return []
    found = []
    for name in os.listdir(directory):
        if not (name.startswith(_PREFIX) and name.endswith(_MANIFEST_SUFFIX)):
            continue
        stem = name[: -len(_MANIFEST_SUFFIX)]
        try:
            step_from_name = int(stem[len(_PREFIX):])
        except ValueError:
            continue
        manifest_path = os.path.join(directory, name)
        weights_path = os.path.join(directory, stem + _WEIGHTS_SUFFIX)
        try:
            with open(manifest_path, encoding="utf-8") as f:
                manifest = json.load(f)
            if not isinstance(manifest, dict) or "global_step" not in manifest:
                raise ValueError("manifest has no global_step")
        except (OSError, ValueError) as error:
            manifest = {"global_step": step_from_name, "error": f"unreadable manifest ({error})"}
        manifest["manifest_path"] = manifest_path
        manifest["weights_path"] = weights_path
        found.append(manifest)
    found.sort(key=lambda m: m["global_step"], reverse=True)
    return found


def verify_checkpoint(manifest):
    """Return `None` when the checkpoint's weights match its manifest, else why not."""
    if "error" in manifest:
        return manifest["error"]
    path = manifest["weights_path"]
    if not os.path.exists(path):
        return "weights file is missing"
    size = os.path.getsize(path)
    if size != manifest.get("size"):
        return f"size is {size} bytes, expected {manifest.get('size')} (truncated or overwritten)"
    if _sha256(path) != manifest.get("sha256"):
        return "SHA-256 checksum does not match (corrupt)"
    return None


class ResumableCheckpoint(keras.callbacks.Callback):
    """Save and restore the training state; see the module docstring.

    Args:
        directory: Folder of the checkpoints (created on the first save).
        save_every_steps: Also save every this many optimizer steps inside an
            epoch (`None` or 0: only at epoch ends).
        keep: How many of the newest checkpoints to keep (at least 2, so one
            is left to fall back to).
        write: `False` on non-chief workers: restore, never write.

    Attributes:
        global_step: Training batches done so far in the whole run (restored
            on resume).
        restored_from: Manifest of the checkpoint restored, or `None`.
        last_saved: Manifest of the newest checkpoint known good, or `None`.
    """

    def __init__(self, directory, save_every_steps=None, keep=2, write=True):
        super().__init__()
        if save_every_steps is not None and int(save_every_steps) < 0:
            raise ValueError(
                f"`save_every_steps` must be positive, or 0/None for epoch ends only. "
                f"Received: save_every_steps={save_every_steps}"
            )
        self.directory = os.fspath(directory)
        self.save_every_steps = int(save_every_steps) if save_every_steps else None
        self.keep = max(2, int(keep))
        self.write = bool(write)
        self.global_step = 0
        self.restored_from = None
        self.last_saved = None
        self._reset_run_state()

    def _reset_run_state(self):
        self._epoch = 0
        self._epoch_base = 0
        self._batches_in_epoch = 0
        self._resume_batch = 0
        self._diverged = False
        self._original_train_function = None

    # ----------------------------------------------------------------- restore
    def on_train_begin(self, logs=None):
        self._reset_run_state()
        model = self.model
        if not model.built:
            raise ValueError(
                "ResumableCheckpoint needs a built model before `fit()`: call the model "
                "on a batch (or give it an Input) first."
            )
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and not optimizer.built:
            with _strategy_scope(model):
                optimizer.build(model.trainable_variables)
        if self.write:
            self._remove_stale_temporaries()
        manifest = self._restore()
        self.restored_from = manifest
        self.last_saved = manifest
        if manifest is None:
            self.global_step = 0
            return
        epoch, batch = int(manifest["epoch"]), int(manifest["batch"])
        steps = self.params.get("steps") if self.params else None
        if steps and batch >= steps:
            epoch, batch = epoch + 1, 0
        self.global_step = int(manifest["global_step"])
        self._epoch_base = self.global_step - batch
        self._resume_batch = batch
        model._initial_epoch = epoch
        epochs = self.params.get("epochs") if self.params else None
        logger.warning(
            "Resuming from checkpoint %s: epoch %d, batch %d, global step %d.",
            manifest["weights_path"],
            epoch + 1,
            batch,
            self.global_step,
        )
        if epochs is not None and epoch >= epochs:
            logger.warning(
                "The checkpoint is at or past the planned %d epoch(s): nothing left to train.",
                epochs,
            )
        if batch > 0:
            self._skip_batches(batch)

    def _restore(self):
        for manifest in list_checkpoints(self.directory):
            problem = verify_checkpoint(manifest)
            if problem is not None:
                self._reject(manifest, problem)
                continue
            try:
                self.model.load_weights(manifest["weights_path"])
            except Exception as error:
                raise CheckpointMismatchError(
                    f"Checkpoint {manifest['weights_path']} is intact but cannot be loaded into "
                    f"this model ({type(error).__name__}: {error}). The model or optimizer "
                    f"changed since it was written: use a new output folder or delete "
                    f"{self.directory}."
                ) from error
            return manifest
        return None

    def _reject(self, manifest, problem):
        older = [
            m["weights_path"]
            for m in list_checkpoints(self.directory)
            if m["global_step"] < manifest["global_step"]
        ]
        fallback = f"falling back to {older[0]}" if older else "no older checkpoint to fall back to"
        logger.warning(
            "Checkpoint %s is unusable: %s; %s.", manifest["weights_path"], problem, fallback
        )
        if not self.write:
            return
        corrupt_dir = os.path.join(self.directory, "corrupt")
        os.makedirs(corrupt_dir, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for key in ("manifest_path", "weights_path"):
            path = manifest[key]
            if os.path.exists(path):
                os.replace(path, os.path.join(corrupt_dir, f"{stamp}-{os.path.basename(path)}"))

    def _remove_stale_temporaries(self):
        if not os.path.isdir(self.directory):
            return
        manifests = {
            name[: -len(_MANIFEST_SUFFIX)]
            for name in os.listdir(self.directory)
            if name.endswith(_MANIFEST_SUFFIX) and name.startswith(_PREFIX)
        }
        for name in os.listdir(self.directory):
            path = os.path.join(self.directory, name)
            stale_temp = ".tmp-" in name
            uncommitted = (
                name.startswith(_PREFIX)
                and name.endswith(_WEIGHTS_SUFFIX)
                and name[: -len(_WEIGHTS_SUFFIX)] not in manifests
            )
            if os.path.isfile(path) and (stale_temp or uncommitted):
                os.remove(path)

    def _skip_batches(self, batches):
        """Make the next `fit` steps draw (and drop) the batches already trained on."""
        model = self.model
        original = model.train_function
        per_call = max(1, int(getattr(model, "steps_per_execution", 1) or 1))
        remaining = [int(math.ceil(batches / per_call))]
        self._original_train_function = original

        def skipping_train_function(iterator):
            if remaining[0] <= 0:
                model.train_function = original
                self._original_train_function = None
                return original(iterator)
            remaining[0] -= 1
            for _ in range(per_call):
                next(iterator)
            return {}

        model.train_function = skipping_train_function
        logger.info("Skipping the %d batch(es) of this epoch trained before the interruption.", batches)

    # -------------------------------------------------------------------- save
    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if self._resume_batch:
            self._batches_in_epoch = self._resume_batch
            self._resume_batch = 0
        else:
            self._epoch_base = self.global_step
            self._batches_in_epoch = 0

    def global_step_at(self, batch):
        """The run's global step once batch `batch` of the current epoch is done."""
        steps = self.params.get("steps") if self.params else None
        if steps:  # with steps_per_execution > 1 Keras may report a batch past the end
            batch = min(int(batch), steps - 1)
        return self._epoch_base + int(batch) + 1

    def on_train_batch_end(self, batch, logs=None):
        step = self.global_step_at(batch)
        if step <= self.global_step:
            return  # a batch skipped on resume
        previous = self.global_step
        self.global_step = step
        self._batches_in_epoch = int(batch) + 1
        if not _loss_is_finite(logs):
            self._diverged = True
        if self._diverged or not self.save_every_steps:
            return
        if step // self.save_every_steps == previous // self.save_every_steps:
            return
        steps = self.params.get("steps") if self.params else None
        if steps and self._batches_in_epoch >= steps:
            return  # the epoch-end checkpoint follows
        self.save(epoch=self._epoch, batch=self._batches_in_epoch)

    def on_epoch_end(self, epoch, logs=None):
        if self._diverged or not _loss_is_finite(logs):
            self._diverged = True
            return
        steps = self.params.get("steps") if self.params else None
        if self.model.stop_training and steps and self._batches_in_epoch < steps:
            self.save(epoch=epoch, batch=self._batches_in_epoch)  # stopped mid-epoch
        else:
            self.save(epoch=epoch + 1, batch=0)

    def on_train_end(self, logs=None):
        if self._original_train_function is not None:
            self.model.train_function = self._original_train_function
            self._original_train_function = None
        self.model._initial_epoch = None

    def save(self, epoch, batch):
        """Write a checkpoint of the current state (no-op when `write=False`)."""
        if not self.write:
            return None
        os.makedirs(self.directory, exist_ok=True)
        stem = f"{_PREFIX}{self.global_step:09d}"
        weights_path = os.path.join(self.directory, stem + _WEIGHTS_SUFFIX)
        manifest_path = os.path.join(self.directory, stem + _MANIFEST_SUFFIX)
        tmp_weights = os.path.join(self.directory, f"{stem}.tmp-{os.getpid()}{_WEIGHTS_SUFFIX}")
        self.model.save_weights(tmp_weights, overwrite=True)
        _fsync_file(tmp_weights)
        manifest = {
            "global_step": int(self.global_step),
            "epoch": int(epoch),
            "batch": int(batch),
            "weights": os.path.basename(weights_path),
            "size": os.path.getsize(tmp_weights),
            "sha256": _sha256(tmp_weights),
            "keras_version": keras.__version__,
            "time": time.time(),
        }
        if os.path.exists(manifest_path):  # uncommit an older checkpoint of this step first
            os.remove(manifest_path)
        os.replace(tmp_weights, weights_path)
        _write_json_atomically(manifest_path, manifest)
        _fsync_dir(self.directory)
        manifest.update(manifest_path=manifest_path, weights_path=weights_path)
        self.last_saved = manifest
        self._prune()
        return manifest

    def _prune(self):
        for manifest in list_checkpoints(self.directory)[self.keep:]:
            for key in ("manifest_path", "weights_path"):  # manifest first: uncommit
                try:
                    os.remove(manifest[key])
                except FileNotFoundError:
                    pass


def _loss_is_finite(logs):
    if not logs or logs.get("loss") is None:
        return True
    try:
        return bool(np.all(np.isfinite(np.asarray(logs["loss"], dtype="float64"))))
    except (TypeError, ValueError):
        return True


def _strategy_scope(model):
    strategy = getattr(model, "distribute_strategy", None)
    if strategy is None:
        import contextlib

        return contextlib.nullcontext()
    return strategy.scope()
