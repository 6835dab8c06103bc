"""The forced kernels on the JAX backend (a fresh process: _jax_routes_script.py)."""

import os
import pathlib
import subprocess
import sys


def test_forced_kernels_match_the_dense_path_on_jax_without_importing_tensorflow():
    script = pathlib.Path(__file__).with_name("_jax_routes_script.py")
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "jax routes: ok" in result.stdout
