"""The suite runs on two processes (`pytest -n 2`, pytest-xdist, see pytest.ini).

Tests that share a trained session fixture must run in one process, or each process would
train it again: every test below `tests/applications/<family>/` is grouped by its folder
(`xdist_group`, with `--dist loadgroup`), and so is `tests/keras_attn/training` (its
multi-process helpers). Everything else is spread freely.
"""

import os

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
_GROUPED = ("applications", os.path.join("keras_attn", "training"))


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which turns the marker into the group
def pytest_collection_modifyitems(config, items):
    for item in items:
        relative = os.path.relpath(os.path.dirname(str(item.fspath)), TESTS)
        if any(relative == root or relative.startswith(root + os.sep) for root in _GROUPED) and \
                relative != "applications":
            item.add_marker(pytest.mark.xdist_group(relative))
