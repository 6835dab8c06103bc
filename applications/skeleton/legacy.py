"""Run folders written by keras-attn 0.1, which had one metadata file per application.

| 0.1 file | task |
|---|---|
| `translator.json` (+ `tokenizer.model`) | `translation` |
| `train_config.json` | `image-classification` |
| `summary.json` with `"task": "classify"` / `"ctc"` | `speech-classification` / `speech-ctc` |

Their `model.keras` files name the applications' classes under the package `keras_attn`
(`keras_attn>ViTClassifier`); today those classes are registered under their own packages,
so `applications.skeleton.loading.load_keras_model` maps the old names to them
(`legacy_custom_objects`) for every file it loads (a 0.1 `.keras` file passed on its own, or
to `--init`, loads too). Each family's predictor reads its old layout in `from_legacy(folder)`.
"""

import json
import os

from applications.skeleton import registry
from applications.skeleton.errors import RunFolderError

_SPEECH_TASKS = {"classify": "speech-classification", "ctc": "speech-ctc"}


def legacy_custom_objects(classes):
    """`{"keras_attn>Name": class}` for classes that keras-attn 0.1 registered under `keras_attn`."""
    return {f"keras_attn>{cls.__name__}": cls for cls in classes}


def legacy_task(folder):
    """The current task name of a 0.1 folder."""
    task = folder.legacy_task()
    if task != "speech":
        return task
    path = folder.file("summary.json")
    try:
        with open(path, encoding="utf-8") as file:
            old = json.load(file).get("task")
    except (OSError, ValueError) as error:
        raise RunFolderError(f"{path} cannot be read ({error}).") from None
    if old not in _SPEECH_TASKS:
        raise RunFolderError(f"{path} names the task {old!r}; expected one of {sorted(_SPEECH_TASKS)}")
    return _SPEECH_TASKS[old]


def load_legacy(folder):
    """The predictor of a keras-attn 0.1 run folder."""
    task = legacy_task(folder)
    predictor = registry.predictor_class(task)
    if predictor is None or not hasattr(predictor, "from_legacy"):
        raise RunFolderError(f"{folder.path} is a keras-attn 0.1 {task} folder, which this version cannot read")
    if not os.path.isfile(folder.model_path):
        raise RunFolderError(f"{folder.path} is a damaged keras-attn 0.1 folder: {folder.model_path} is missing")
    return predictor.from_legacy(folder)
