"""Which `jit_compile` a `keras-attn <domain> train` command hands to `TrainingRun`.

The spy replaces `TrainingRun` in the command's train module and stops the
command there, so no model is built or trained.
"""

import pytest

from applications.cli import main


class StopBeforeTraining(Exception):
    """Raised by the spy in place of building the training run."""


def jit_compile_of_train_command(monkeypatch, train_module, argv):
    """`[jit_compile without --no-xla, jit_compile with --no-xla]` for `argv`."""
    seen = []

    def training_run(*args, **kwargs):
        seen.append(kwargs.get("jit_compile", "auto"))
        raise StopBeforeTraining

    monkeypatch.setattr(train_module, "TrainingRun", training_run)
    for extra in ([], ["--no-xla"]):
        with pytest.raises(StopBeforeTraining):
            main([*argv, *extra])
    return seen
