"""Registering a family's sub-commands with the shared flags.

A family's `commands.py` calls these to build its parsers; each sub-command's `func(args)`
returns its result (a dict or a list of dicts) and the `keras-attn` runner prints it
(`applications.skeleton.results`): one JSON document with `--json`, text otherwise, on stdout
only. A sub-command can set `text` (a function from the result to lines) for its text form.

- `add_train_command(commands, task, ...)`: the shared training flags, the task's own flags
  (added by the family), and at the end of `--help` the task's proven defaults and sizes.
- `add_evaluate_command`, `add_predict_command`, `add_export_command`: the shared flags of
  those commands; the handler gets the loaded predictor (`load_predictor(args, tasks)`).

Nothing here imports TensorFlow: `keras-attn <family> --help` stays fast.
"""

import argparse
import sys

from applications.skeleton.flags import EVALUATION_FLAGS, EXPORT_FLAGS, PREDICTION_FLAGS, TRAINING_FLAGS, add_flags


def _defaults_line(task, label=None):
    shown = {key: value for key, value in task.defaults.items() if value is not None}
    flags = ", ".join(f"--{key.replace('_', '-')} {value}" for key, value in shown.items())
    return f"  {label or task.name}: {flags}" if label else "  " + flags


def _defaults_epilog(task, variants=None):
    """The end of a train command's `--help`: what the defaults are tuned for, the proven
    defaults (per task when one command trains several), and the sizes."""
    lines = [task.defaults_note] if task.defaults_note else []
    lines.append("Defaults of this command (the settings its demo and benchmarks prove):")
    if variants:
        lines += [_defaults_line(variant, label) for label, variant in variants.items()]
    else:
        lines.append(_defaults_line(task))
    if task.sizes is not None:
        lines.append("Sizes (--size):")
        lines.append(task.sizes.describe())
    return "\n".join(lines)


def _run_train(task_factory):
    def run(args):
        from applications.skeleton.settings import settings_from_args
        from applications.skeleton.training import train

        task = task_factory(args)
        return train(task, settings_from_args(task, args), command_line=["keras-attn", *sys.argv[1:]])

    return run


def add_train_command(commands, task, name="train", help=None, description=None, task_factory=None, variants=None):
    """A `train` sub-command for `task` (a `Task` instance); returns its parser.

    `task_factory(args)` picks the task from the parsed arguments when one command trains
    several tasks (speech's `--task`); by default it is `task`. `variants` (`{label: task}`)
    lists each such task's defaults in `--help`.
    """
    parser = commands.add_parser(
        name, help=help, description=description, epilog=_defaults_epilog(task, variants),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_flags(parser, TRAINING_FLAGS)
    parser.set_defaults(func=_run_train(task_factory or (lambda args: task)))
    return parser


def load_predictor(args, tasks, command):
    """`applications.load(args.model)` for a command that accepts `tasks`."""
    from applications.skeleton.loading import load

    return load(args.model, tasks=tasks, command=command)


def _command(parser, flags, handler, text=None):
    add_flags(parser, flags)
    parser.set_defaults(func=handler, text=text)
    return parser


def add_evaluate_command(commands, handler, help, description=None, text=None, name="evaluate"):
    """An `evaluate` sub-command: `--model --data --batch-size --skip-bad-files --json`."""
    parser = commands.add_parser(name, help=help, description=description)
    return _command(parser, EVALUATION_FLAGS, handler, text)


def add_predict_command(commands, handler, help, description=None, text=None, name="predict", aliases=()):
    """A `predict` sub-command: `--model --batch-size --json`; the family adds its inputs."""
    parser = commands.add_parser(name, help=help, description=description, aliases=list(aliases))
    return _command(parser, PREDICTION_FLAGS, handler, text)


def add_export_command(commands, tasks, family, help="write a SavedModel that serves without the library"):
    """An `export` sub-command: `--model DIR [--out DIR]`; prints the SavedModel folder."""

    def export(args):
        predictor = load_predictor(args, tasks, f"{family} export")
        return {"saved_model": predictor.export(args.out)}

    parser = commands.add_parser("export", help=help)
    return _command(parser, EXPORT_FLAGS, export, text=lambda result: [result["saved_model"]])
