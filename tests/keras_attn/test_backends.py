"""The library proper uses keras.ops only, so it runs on other Keras backends.

`keras_attn/training/` is the exception: tf.distribute strategies and
checkpointing are TensorFlow's. `keras_attn/ops/xla_context.py` asks
TensorFlow whether it is inside `jit_compile`, and
`keras_attn/ops/attention_route.py` where a tensor is placed, each importing it
lazily, inside a function that runs only on the TensorFlow backend
(tests/keras_attn/ops/_jax_routes_script.py checks, on JAX, that TensorFlow
never gets imported).
"""

import ast
import os
import pathlib
import subprocess
import sys

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "keras_attn"
# Modules that import TensorFlow lazily: only their module level must be free of it.
LAZY_TENSORFLOW = ("ops/xla_context.py", "ops/attention_route.py")


def test_library_never_imports_tensorflow():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if "training" in path.relative_to(PACKAGE).parts:
            continue
        tree = ast.parse(path.read_text())
        nodes = tree.body if path.relative_to(PACKAGE).as_posix() in LAZY_TENSORFLOW else ast.walk(tree)
        for node in nodes:
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            offenders += [f"{path.name}: {name}" for name in names if name.split(".")[0] in ("tensorflow", "tf_keras")]
    assert not offenders, offenders


def test_layers_ops_and_generation_run_on_jax():
    script = pathlib.Path(__file__).with_name("_jax_backend_script.py")
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "jax backend: ok" in result.stdout
