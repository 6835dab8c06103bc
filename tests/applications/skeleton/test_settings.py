import pytest

from applications.skeleton.errors import FlagError
from applications.skeleton.settings import resolve_settings, settings_from_args
from applications.skeleton.task import Task


class Toy(Task):
    name, family = "toy", "toy"
    defaults = dict(epochs=3, batch_size=8, learning_rate=1e-3, max_length=16)


def test_precedence_user_then_task_then_shared():
    settings = resolve_settings(Toy(), data="d", out="o", epochs=5, max_length=None)
    assert (settings.epochs, settings.batch_size, settings.max_length, settings.seed, settings.strategy) == \
        (5, 8, 16, 0, "auto")
    assert "strategy" not in settings.model_settings() and settings.model_settings()["max_length"] == 16


def test_unknown_settings_are_refused():
    with pytest.raises(FlagError, match="colour"):
        resolve_settings(Toy(), data="d", out="o", colour="red")


def test_from_parsed_arguments_ignores_the_command_fields():
    import argparse

    args = argparse.Namespace(data="d", out="o", epochs=None, func=print, verbose=True, vision_command="train")
    settings = settings_from_args(Toy(), args)
    assert settings.epochs == 3 and settings.verbose == "auto"
