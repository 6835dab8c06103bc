"""`TrainSettings`: the settings of one training run, after the task's proven defaults.

A run's settings are, in order of precedence: what the user gave (a flag, or a keyword of
the Python API), the task's proven defaults (`Task.defaults`, the values its demo and
benchmarks show working), and the shared defaults of `flags.TRAINING_FLAGS`. The resolved
settings are what training uses and what `run.json` records under `"training"`.

Example:

>>> from applications.skeleton.task import Task
>>> class Toy(Task):
...     name, family = "toy", "toy"
...     defaults = dict(epochs=3, batch_size=8, learning_rate=1e-3, max_length=16)
>>> settings = resolve_settings(Toy(), data="d.tsv", out="runs/toy", epochs=5)
>>> settings.epochs, settings.batch_size, settings.max_length, settings.strategy
(5, 8, 16, 'auto')
>>> resolve_settings(Toy(), data="d", out="o", colour="red")
Traceback (most recent call last):
...
applications.skeleton.errors.FlagError: Unknown setting(s) of the toy task: colour. Known: ...
"""

import argparse
import types

from applications.skeleton.errors import FlagError
from applications.skeleton.flags import TRAINING_FLAGS

# Settings that never change the trained model: a run may resume or continue with other values.
RUNTIME_SETTINGS = ("out", "strategy", "no_xla", "checkpoint_every", "json", "verbose", "epochs", "max_steps")


def shared_defaults():
    """`{dest: default}` of the shared training flags (`None` where the task decides)."""
    return {flag.dest: flag.options.get("default", False if flag.options.get("action") == "store_true" else None)
            for flag in TRAINING_FLAGS}


class TrainSettings(types.SimpleNamespace):
    """Attribute access to a run's settings; `to_dict()` for `run.json`."""

    def to_dict(self):
        return dict(vars(self))

    def model_settings(self):
        """The settings that decide the trained model (all but `RUNTIME_SETTINGS`)."""
        return {key: value for key, value in vars(self).items() if key not in RUNTIME_SETTINGS}


def resolve_settings(task, **given):
    """`TrainSettings` for `task` from user values (`None` values count as not given).

    Raises:
        FlagError: for a setting that is neither shared nor one of the task's.
    """
    values = dict(shared_defaults(), verbose="auto")
    values.update(task.defaults)
    unknown = sorted(set(given) - set(values))
    if unknown:
        raise FlagError(
            f"Unknown setting(s) of the {task.name} task: {', '.join(unknown)}. Known: {', '.join(sorted(values))}"
        )
    values.update({key: value for key, value in given.items() if value is not None})
    return TrainSettings(**values)


def settings_from_args(task, args):
    """`TrainSettings` from parsed command-line arguments (unknown attributes are ignored:
    the parser also carries the command's own fields)."""
    if isinstance(args, argparse.Namespace):
        args = vars(args)
    known = set(shared_defaults()) | set(task.defaults)  # not "verbose": the CLI's -v is logging
    return resolve_settings(task, **{key: value for key, value in args.items() if key in known})
