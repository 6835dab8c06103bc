"""Serving a SavedModel in a fresh process that never imports keras_attn or applications (tests only)."""

import json
import subprocess
import sys


def serve(saved_model, script, *args, timeout=180):
    """Run `script` (Python source reading `sys.argv[1]` = the SavedModel folder) with `cwd="/"`, so the
    repository is not importable; returns the JSON of its last stdout line, which also holds
    `"imported"`: the keras-attn modules the process imported (must be none)."""
    footer = ("\nimported = sorted({m.split('.')[0] for m in sys.modules} & {'keras_attn', 'applications', 'keras_hub'})"
              "\nprint(json.dumps(dict(result, imported=imported)))\n")
    source = "import json, sys\nimport tensorflow as tf\n" + script + footer
    completed = subprocess.run([sys.executable, "-c", source, str(saved_model), *map(str, args)], capture_output=True,
                               text=True, timeout=timeout, cwd="/")
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])
