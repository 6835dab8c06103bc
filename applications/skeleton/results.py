"""Printing a command's results: stdout carries only results.

A command returns its result (a dict, or a list of dicts) and the command runner prints it
here: one JSON document with `--json`, otherwise readable `key: value` lines (lists: one
line per item). Logs and Keras' progress bars go to stderr (the runner redirects them).

Example:

>>> import io
>>> stream = io.StringIO()
>>> print_result({"accuracy": 0.75, "num_examples": 4}, as_json=False, stream=stream)
>>> print(stream.getvalue(), end="")
accuracy: 0.75
num_examples: 4
>>> stream = io.StringIO()
>>> print_result([{"input": "a.png", "label": "cat"}], as_json=True, stream=stream)
>>> stream.getvalue()
'[{"input": "a.png", "label": "cat"}]\\n'
"""

import json
import sys


def _text(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def format_text(result):
    """Readable lines for a result (see the module doc)."""
    if isinstance(result, dict):
        return [f"{key}: {_text(value)}" for key, value in result.items()]
    if isinstance(result, list):
        lines = []
        for item in result:
            if isinstance(item, dict):
                lines.append("\t".join(_text(value) for value in item.values()))
            else:
                lines.append(_text(item))
        return lines
    return [_text(result)]


def print_result(result, as_json=False, stream=None, text=None):
    """Print `result` on `stream` (default stdout): JSON with `as_json`, else `text(result)`
    lines (default `format_text`). `None` prints nothing."""
    if result is None:
        return
    stream = stream or sys.stdout
    if as_json:
        stream.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        for line in (text or format_text)(result):
            stream.write(line + "\n")
    stream.flush()
