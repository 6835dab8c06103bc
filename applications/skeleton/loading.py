"""Loading: `load(path)` returns the predictor of any run folder, and every model load goes
through `load_keras_model`, the one place that turns Keras' and TensorFlow's exceptions into
one-line messages naming the file and the problem.

`load(path, tasks=None, command=None)`:

- a finished run folder: its `run.json` names the task; the task's predictor is built from
  the folder (`Predictor.from_run`);
- a folder of keras-attn 0.1 (`translator.json`, `train_config.json`, `summary.json`): read
  by `applications.skeleton.legacy`, with a note that retraining writes the new format;
- a `.keras` file: its run folder when it sits in one, otherwise a predictor of the task its
  model class belongs to (for tasks whose model needs no other asset);
- anything else: one message per state (missing, empty, unfinished with the command that
  resumes it, damaged). When `tasks` is given and the folder holds another task, the message
  names both (`runs/gpt holds a causal-lm run (keras-attn gpt); keras-attn vision evaluate
  needs an image-classification run`).

`load_keras_model(path)` checks the archive before Keras opens it (missing, empty, not a
complete `.keras` zip, a member with a bad checksum) and translates what Keras raises
(unknown class, `Lambda` refused by safe mode, an argument this version does not take).
"""

import json
import logging
import os
import re
import zipfile

from applications.skeleton import registry
from applications.skeleton.errors import ModelFileError, RunFolderError
from applications.skeleton.run_folder import MODEL_FILE, RunFolder

logger = logging.getLogger(__name__)

_KERAS_MEMBERS = ("config.json", "metadata.json")
_WEIGHTS_MEMBERS = ("model.weights.h5", "model.weights.npz")


def check_keras_archive(path):
    """Raise `ModelFileError` unless `path` is a complete `.keras` archive; return its config dict."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ModelFileError(f"No such model file: {path}")
    if os.path.isdir(path):
        raise ModelFileError(f"{path} is a folder, not a .keras file")
    size = os.path.getsize(path)
    if size == 0:
        raise ModelFileError(f"{path} is damaged: the file is empty (0 bytes)")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(
            f"{path} is damaged: not a complete .keras archive ({size} bytes; truncated or overwritten?)"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            missing = [name for name in _KERAS_MEMBERS if name not in names]
            if not names & set(_WEIGHTS_MEMBERS):
                missing.append("model.weights.h5")
            if missing:
                raise ModelFileError(f"{path} is damaged: the archive lacks {', '.join(missing)}")
            bad = archive.testzip()
            if bad is not None:
                raise ModelFileError(f"{path} is damaged: {bad} inside it fails its checksum")
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        if isinstance(error, ModelFileError):
            raise
        raise ModelFileError(f"{path} is damaged: {type(error).__name__}: {error}") from None
    return config


def model_class_name(path):
    """The registered name (or class name) of the model in a `.keras` file, read without Keras."""
    config = check_keras_archive(path)
    return config.get("registered_name") or config.get("class_name")


def _application_classes():
    """Every family's serialisable classes, registered on import (each family's command
    registration names the module that imports them, `CUSTOM_OBJECTS`), and the names
    keras-attn 0.1 saved them under (`keras_attn>ViTClassifier`), so its files still load."""
    import importlib

    from applications.skeleton.legacy import legacy_custom_objects

    old_names = {}
    for module in registry.family_modules().values():
        if getattr(module, "CUSTOM_OBJECTS", None):
            classes = getattr(importlib.import_module(module.CUSTOM_OBJECTS), "CLASSES", ())
            old_names.update(legacy_custom_objects(classes))
    return old_names


def load_keras_model(path, custom_objects=None, compile=False):
    """`keras.saving.load_model(path, safe_mode=True)`, with every failure one clear message.

    Raises:
        ModelFileError: naming the file and what is wrong with it.
    """
    check_keras_archive(path)
    import keras

    objects = dict(_application_classes(), **(custom_objects or {}))
    try:
        return keras.saving.load_model(path, custom_objects=objects, compile=compile, safe_mode=True)
    except (TypeError, ValueError, KeyError, AttributeError, OSError) as error:
        raise ModelFileError(_explain_load_error(path, error)) from error


def _explain_load_error(path, error):
    text = str(error)
    unknown = re.search(r"Could not locate (?:class|function) '([^']+)'", text)
    if unknown:
        return (f"{path} uses the class {unknown.group(1)!r}, which this version of keras-attn does not know "
                "(saved by another program or version?)")
    if "Lambda" in text and "safe_mode" in text:
        return (f"{path} holds a Lambda layer (arbitrary Python code), which keras-attn refuses to load "
                "(safe_mode=True)")
    argument = re.search(r"unexpected keyword argument '([^']+)'", text)
    if argument:
        return (f"{path} was saved with the argument {argument.group(1)!r}, which this version of keras-attn "
                "does not take (saved by a newer version?)")
    first_line = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return f"{path} cannot be loaded: {type(error).__name__}: {first_line[:300]}"


def _a(word):
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"


def _expected(tasks, command):
    wanted = " or ".join(tasks)
    who = f"keras-attn {command}" if command else "this command"
    return f"{who} needs {_a(wanted)} run"


def _check_task(path, task, tasks, command):
    if tasks and task not in tasks:
        family = registry.task_families().get(task)
        holder = f"{_a(task)} run (keras-attn {family})" if family else f"{_a(repr(task))} run"
        raise RunFolderError(f"{path} holds {holder}; {_expected(tasks, command)}")


def load(path, tasks=None, command=None):
    """The predictor of a run folder or `.keras` file (see the module doc).

    Args:
        path: a run folder or a `.keras` file.
        tasks: task names the caller accepts (`None`: any).
        command: the calling command (`"vision evaluate"`), for messages.
    """
    path = os.fspath(path)
    if os.path.isfile(path):
        return _load_model_file(path, tasks, command)
    folder = RunFolder(path)
    status = folder.status()
    if status == "missing":
        raise RunFolderError(f"No such run folder: {path}")
    if status == "empty":
        raise RunFolderError(f"{path} is an empty folder, not a run (train into it first)")
    if status == "resumable":
        raise RunFolderError(folder.describe_unfinished())
    if status == "legacy":
        from applications.skeleton.legacy import load_legacy

        task = folder.legacy_task()
        predictor = load_legacy(folder)
        _check_task(path, predictor.task, tasks, command)
        logger.info(
            "%s was written by keras-attn 0.1 (%s); it loads as it is. Training again into a new --out "
            "writes the current format (run.json).", path, task,
        )
        return predictor
    if status == "broken":
        if os.path.isfile(folder.run_path):
            try:
                problem = folder.model_problem(folder.info())
            except RunFolderError as error:
                raise RunFolderError(f"{path} is a damaged run folder: {error}") from None
            raise RunFolderError(f"{path} is a damaged run folder: {problem}")
        raise RunFolderError(f"{path} is not a run folder (no run.json; train into it, or pass a run folder)")
    info = folder.info()
    task = info.get("task")
    _check_task(path, task, tasks, command)
    predictor = registry.predictor_class(task)
    if predictor is None:
        raise RunFolderError(f"{path} holds a {task!r} run, a task this version of keras-attn does not know")
    return predictor.from_run(folder, info)


def _load_model_file(path, tasks, command):
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.basename(path) == MODEL_FILE and RunFolder(parent).status() in ("finished", "legacy"):
        return load(parent, tasks, command)
    name = model_class_name(path)
    for task in registry.task_families():
        predictor = registry.predictor_class(task)
        if name in getattr(predictor, "model_classes", ()):
            _check_task(path, task, tasks, command)
            if not hasattr(predictor, "from_model"):
                break
            return predictor.from_model(load_keras_model(path))
    wanted = _expected(tasks, command) if tasks else "keras-attn needs its run folder"
    raise RunFolderError(f"{path} holds a {name} model without its run folder; {wanted} (pass the folder)")
