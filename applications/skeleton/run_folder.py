"""`RunFolder`: the one run-folder format of every task, and the states a folder can be in.

A finished run folder holds:

    model.keras          the trained model (Keras' format, loads with safe_mode=True)
    run.json             what the run is: task, library version, model config, preprocessing,
                         training settings, final metrics, assets, model checksum; written last
    <assets>             the task's own files (a tokenizer, ...), named in run.json
    checkpoints/ history.csv training_curve.png tensorboard/   the training records

`run.json` is the marker of completeness: it is written (atomically) only after the model and
the assets, and it records the model file's size and SHA-256, so a folder whose model was
replaced or damaged afterwards is recognised as such. While training runs, `training.json`
records the task, the settings and the command line (so an interrupted run can say how to
resume), and `.lock` (an `flock` held by the training process) keeps a second training out.

`status()` tells the states apart, each with its own message:

- `missing`: no such folder;           - `empty`: an empty folder (a new run may start there);
- `finished`: `run.json` and a model that matches it (also while a continuation of it trains:
  the finished model stays intact until the new one replaces it);
- `resumable`: `training.json` and no finished model: interrupted, the same command resumes;
- `broken`: files but neither marker, an unreadable marker, or a model that does not match;
- `legacy`: a folder written by keras-attn 0.1 (see `applications.skeleton.legacy`).

This module imports no TensorFlow.

Example:

>>> import json, os, tempfile
>>> folder = RunFolder(os.path.join(tempfile.mkdtemp(), "run"))
>>> folder.status()
'missing'
>>> os.makedirs(folder.path); folder.status()
'empty'
>>> folder.write_state({"task": "toy", "settings": {"epochs": 2}, "command_line": ["keras-attn", "toy", "train"]})
>>> folder.status()
'resumable'
>>> with open(folder.model_path, "wb") as f:
...     _ = f.write(b"weights")
>>> folder.finish({"task": "toy"})
>>> folder.status(), sorted(os.listdir(folder.path))
('finished', ['model.keras', 'run.json'])
"""

import contextlib
import datetime
import errno
import hashlib
import json
import os
import shlex
import shutil

from applications.skeleton.errors import RunFolderError

MODEL_FILE = "model.keras"
RUN_FILE = "run.json"
STATE_FILE = "training.json"
LOCK_FILE = ".lock"
FORMAT = 1
# Files of keras-attn 0.1 run folders, by task.
LEGACY_MARKERS = {"translator.json": "translation", "train_config.json": "image-classification",
                  "summary.json": "speech"}
TRAINING_RECORDS = ("checkpoints", "history.csv", "training_curve.png", "tensorboard")


def library_version():
    """keras-attn's version, read without importing the library (and so TensorFlow)."""
    from importlib import metadata

    try:
        return metadata.version("keras-attn")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        path = os.path.join(os.path.dirname(__file__), "..", "..", "keras_attn", "version.py")
        with open(path, encoding="utf-8") as file:
            return file.read().split('"')[1]


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_json_atomically(path, data):
    """Write JSON to a temporary file, flush it to disk, then rename it over `path`."""
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as file:
        json.dump(data, file, indent=2, ensure_ascii=False, default=str)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def command_line_text(command_line):
    return " ".join(shlex.quote(str(part)) for part in command_line) if command_line else ""


class RunFolder:
    """A run folder on disk (see the module doc). Cheap to create; reads files on demand."""

    def __init__(self, path):
        self.path = os.path.abspath(os.fspath(path))
        self.model_path = os.path.join(self.path, MODEL_FILE)
        self.run_path = os.path.join(self.path, RUN_FILE)
        self.state_path = os.path.join(self.path, STATE_FILE)
        self.lock_path = os.path.join(self.path, LOCK_FILE)
        self._lock_file = None

    def file(self, name):
        """The path of a file of the run (an asset)."""
        return os.path.join(self.path, name)

    # -- reading -------------------------------------------------------------------------

    def _read_json(self, path):
        try:
            with open(path, encoding="utf-8") as file:
                data = json.load(file)
        except (OSError, ValueError) as error:
            raise RunFolderError(f"{path} cannot be read ({type(error).__name__}: {error}).") from None
        if not isinstance(data, dict):
            raise RunFolderError(f"{path} does not hold a JSON object.")
        return data

    def info(self):
        """The contents of `run.json` (raises `RunFolderError` if it is missing or damaged)."""
        if not os.path.isfile(self.run_path):
            raise RunFolderError(f"{self.path} has no {RUN_FILE}.")
        return self._read_json(self.run_path)

    def state(self):
        """The contents of `training.json`, or `None`."""
        if not os.path.isfile(self.state_path):
            return None
        return self._read_json(self.state_path)

    def legacy_task(self):
        """The task of a keras-attn 0.1 folder (`"translation"`, ...), or `None`."""
        for marker, task in LEGACY_MARKERS.items():
            if os.path.isfile(self.file(marker)) and not os.path.isfile(self.run_path):
                return task
        return None

    def model_problem(self, info):
        """Why the model file does not match `run.json`, or `None` when it does."""
        model = info.get("model") or {}
        path = self.file(model.get("file", MODEL_FILE))
        if not os.path.isfile(path):
            return f"{path} is missing"
        size = os.path.getsize(path)
        if model.get("bytes") is not None and size != model["bytes"]:
            return f"{path} has {size} bytes where {RUN_FILE} records {model['bytes']} (damaged or replaced)"
        if model.get("sha256") and sha256(path) != model["sha256"]:
            return f"{path} does not match the checksum in {RUN_FILE} (damaged or replaced)"
        return None

    def status(self):
        """`"missing"`, `"empty"`, `"finished"`, `"resumable"`, `"broken"` or `"legacy"`."""
        if not os.path.isdir(self.path):
            return "missing"
        entries = [name for name in os.listdir(self.path) if name != LOCK_FILE]
        if not entries:
            return "empty"
        if os.path.isfile(self.run_path):
            try:
                finished = self.model_problem(self.info()) is None
            except RunFolderError:
                finished = False
            if finished:  # also while a continuation trains: the finished model is intact
                return "finished"
        if os.path.isfile(self.state_path):
            return "resumable"
        if os.path.isfile(self.run_path):
            return "broken"
        if self.legacy_task():
            return "legacy"
        return "broken"

    def describe_unfinished(self):
        """'interrupted at epoch 2, step 140 ...; resume with: <command>' for a resumable run."""
        state = self.state() or {}
        checkpoint = _newest_checkpoint(os.path.join(self.path, "checkpoints"))
        where = (f"its last checkpoint is epoch {checkpoint['epoch'] + 1}, step {checkpoint['global_step']}"
                 if checkpoint else "it has no checkpoint yet")
        command = command_line_text(state.get("command_line"))
        resume = f"run the same command again to resume: {command}" if command else "run the same command again"
        return f"{self.path} is an unfinished {state.get('task', 'training')} run ({where}); {resume}"

    # -- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self):
        """Hold `.lock` for the duration; a second holder gets `RunFolderError` at once."""
        import fcntl

        os.makedirs(self.path, exist_ok=True)
        handle = open(self.lock_path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise RunFolderError(
                f"{self.path} is in use by another training ({holder}); wait for it to finish or choose "
                "another --out."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {_now()}\n")
        handle.flush()
        try:
            yield self
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
            with contextlib.suppress(OSError):
                os.remove(self.lock_path)

    def write_state(self, state):
        """Write `training.json` (the in-progress marker), atomically."""
        os.makedirs(self.path, exist_ok=True)
        write_json_atomically(self.state_path, dict(state, started_at=state.get("started_at") or _now()))

    def finish(self, info):
        """Mark the run finished: `run.json` with the model's size and checksum, written last;
        then `training.json` is removed. The model and the assets must already be written."""
        info = dict(info)
        info.setdefault("format", FORMAT)
        info.setdefault("library_version", library_version())
        info["model"] = {"file": MODEL_FILE, "bytes": os.path.getsize(self.model_path),
                         "sha256": sha256(self.model_path)}
        info["finished_at"] = _now()
        write_json_atomically(self.run_path, info)
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.state_path)

    def remove_new_entries(self, before):
        """After a failed start: delete what was created since `before` (a set of names), or
        the whole folder when it did not exist. Keeps everything once a checkpoint exists."""
        if not os.path.isdir(self.path) or _newest_checkpoint(os.path.join(self.path, "checkpoints")):
            return
        if before is None:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        for name in set(os.listdir(self.path)) - set(before) - {LOCK_FILE}:
            target = self.file(name)
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.remove(target)


def _newest_checkpoint(directory):
    """The manifest of the newest checkpoint in `directory` (ResumableCheckpoint's format), or None."""
    if not os.path.isdir(directory):
        return None
    newest = None
    for name in os.listdir(directory):
        if not (name.startswith("ckpt-") and name.endswith(".json")):
            continue
        try:
            with open(os.path.join(directory, name), encoding="utf-8") as file:
                manifest = json.load(file)
        except (OSError, ValueError):
            continue
        if newest is None or manifest.get("global_step", -1) > newest.get("global_step", -1):
            newest = manifest
    return newest
