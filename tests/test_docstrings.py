"""Every `Example:` in a docstring of keras_attn or applications runs and gives
the output it shows."""

import doctest
import importlib
import pkgutil

import pytest

import applications
import keras_attn


def _modules():
    names = []
    for package in (keras_attn, applications):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
