"""The families of `keras-attn` and the tasks their run folders hold.

Each family's command registration module (`commands.py`, which imports no TensorFlow)
defines `register(subparsers)`, `TASKS = {task name: "module:PredictorClass"}` and, when the
family has serialisable classes of its own, `CUSTOM_OBJECTS` (the module that imports them,
so Keras' loader finds them). The loader finds a run folder's predictor here from the
`"task"` in its `run.json`, importing only that family's predictor.

Example:

>>> task_families()["translation"], task_families()["image-classification"]
('text', 'vision')
"""

import importlib

# command name -> its registration module, in the order `keras-attn --help` lists them.
FAMILIES = {
    "text": "applications.text.translation.commands",
    "gpt": "applications.text.gpt.commands",
    "bert": "applications.text.bert.commands",
    "vision": "applications.vision.commands",
    "speech": "applications.speech.commands",
}


def family_modules():
    """`{family: its commands module}` for the families that are installed."""
    modules = {}
    for family, name in FAMILIES.items():
        try:
            modules[family] = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name is None or not name.startswith(error.name):
                raise
    return modules


def _tasks():
    tasks = {}
    for family, module in family_modules().items():
        for task, predictor in getattr(module, "TASKS", {}).items():
            tasks[task] = (family, predictor)
    return tasks


def task_families():
    """`{task name: family}`."""
    return {task: family for task, (family, _) in _tasks().items()}


def predictor_class(task):
    """The predictor class of a task name (imports its module), or `None` if unknown."""
    entry = _tasks().get(task)
    if entry is None:
        return None
    module, _, name = entry[1].partition(":")
    return getattr(importlib.import_module(module), name)
