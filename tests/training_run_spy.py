"""Which `jit_compile` a `keras-attn <family> train` command hands to `TrainingRun`.

The spy replaces `keras_attn.training.TrainingRun` (which the skeleton's training entry
imports when it runs) and stops the command there, so no data is read and no model is built.
"""

import pytest

from applications.cli import main


class StopBeforeTraining(Exception):
    """Raised by the spy in place of building the training run."""


def jit_compile_of_train_command(monkeypatch, argv):
    """`[jit_compile without --no-xla, jit_compile with --no-xla]` for `argv`."""
    import keras_attn.training

    seen = []

    def training_run(*args, **kwargs):
        seen.append(kwargs.get("jit_compile", "auto"))
        raise StopBeforeTraining

    monkeypatch.setattr(keras_attn.training, "TrainingRun", training_run)
    for extra in ([], ["--no-xla"]):
        with pytest.raises(StopBeforeTraining):
            main([*argv, *extra])
    return seen
