"""The shared flags are the same flag in every command: parsed from the real parsers."""

import argparse

import pytest

from applications.cli import build_parser
from applications.skeleton.flags import EVALUATION_FLAGS, EXPORT_FLAGS, PREDICTION_FLAGS, TRAINING_FLAGS


def _commands(parser, prefix=()):
    """`{("vision", "train"): subparser, ...}` for every sub-command of the real parser."""
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[(*prefix, name)] = sub
                found.update(_commands(sub, (*prefix, name)))
    return found


def _actions(parser):
    return {option: action for action in parser._actions for option in action.option_strings}


def _signature(action):
    return (tuple(action.option_strings), action.dest, action.default, action.choices, action.help, action.type,
            action.required, type(action).__name__)


COMMANDS = _commands(build_parser())
TRAIN_COMMANDS = sorted(key for key in COMMANDS if key[-1] in ("train", "pretrain", "finetune"))


def _with_flags(flags, name):
    wanted = {flag.names[0] for flag in flags}
    return sorted(key for key, parser in COMMANDS.items() if key[-1] == name and wanted <= set(_actions(parser)))


def test_every_family_has_a_train_command():
    assert {key[0] for key in TRAIN_COMMANDS} >= {"text", "vision", "speech"}


@pytest.mark.parametrize("flags, commands", [
    (TRAINING_FLAGS, TRAIN_COMMANDS),
    (EVALUATION_FLAGS, _with_flags(EVALUATION_FLAGS, "evaluate")),
    (PREDICTION_FLAGS, _with_flags(PREDICTION_FLAGS, "predict")),
    (EXPORT_FLAGS, _with_flags(EXPORT_FLAGS, "export")),
], ids=["train", "evaluate", "predict", "export"])
def test_shared_flags_are_identical_in_every_command(flags, commands):
    assert len(commands) >= 3
    reference = None
    for command in commands:
        actions = _actions(COMMANDS[command])
        signatures = [_signature(actions[flag.names[0]]) for flag in flags]
        assert reference is None or signatures == reference, command
        reference = signatures


def test_required_flag_set_of_the_issue():
    names = {option for flag in TRAINING_FLAGS for option in flag.names}
    required = ("--data --out --size --num-layers --hidden-dim --num-heads --intermediate-dim --dropout-rate "
                "--epochs --batch-size --learning-rate --warmup-steps --weight-decay --validation-data --seed "
                "--init --strategy --mixed-precision --no-xla --checkpoint-every --skip-bad-files --json").split()
    assert set(required) <= names
    assert {"--mlp-dim", "--dropout", "--skip-corrupt"} <= names  # old spellings still work
    strategy = next(flag for flag in TRAINING_FLAGS if flag.names[0] == "--strategy")
    assert strategy.options["choices"] == ("auto", "default", "mirrored", "multi-worker", "tpu")


@pytest.mark.parametrize("command", TRAIN_COMMANDS, ids=lambda key: " ".join(key))
def test_aliases_parse_to_the_same_setting(command):
    parser = build_parser()
    base = [*command, "--data", "d", "--out", "o"]
    old = parser.parse_args([*base, "--mlp-dim", "48", "--dropout", "0.2", "--skip-corrupt"])
    new = parser.parse_args([*base, "--intermediate-dim", "48", "--dropout-rate", "0.2", "--skip-bad-files"])
    for name in ("intermediate_dim", "dropout_rate", "skip_bad_files"):
        assert getattr(old, name) == getattr(new, name)


@pytest.mark.parametrize("command", TRAIN_COMMANDS, ids=lambda key: " ".join(key))
def test_help_lists_the_proven_defaults(command, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args([*command, "--help"])
    text = capsys.readouterr().out
    assert "Defaults of this command" in text and "--epochs" in text


def test_bad_values_name_the_flag(capsys):
    with pytest.raises(SystemExit) as error:
        build_parser().parse_args(["vision", "train", "--data", "d", "--out", "o", "--epochs", "0"])
    assert error.value.code == 2 and "--epochs" in capsys.readouterr().err
