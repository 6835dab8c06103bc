"""keras_attn.distribution: layouts, and training under DataParallel and
ModelParallel on 8 virtual CPU devices (JAX, a fresh process:
_jax_distribution_script.py)."""

import os
import pathlib
import subprocess
import sys

import keras
import pytest

from keras_attn.distribution import layout_map


def test_bad_arguments_name_the_problem():
    mesh = keras.distribution.DeviceMesh((1,), ("batch",), keras.distribution.list_devices()[:1])
    with pytest.raises(ValueError, match="Received: model_axis='model'"):
        layout_map(mesh)
    with pytest.raises(ValueError, match="Received: device_mesh="):
        layout_map("mesh")


def test_each_variable_matches_at_most_one_layout():
    mesh = keras.distribution.DeviceMesh((1, 1), ("data", "heads"), keras.distribution.list_devices()[:1])
    layouts = layout_map(mesh, model_axis="heads")
    for path, axes in [
        ("query/kernel", (None, "heads", None)),  # a MultiHeadAttention on its own
        ("encoder/block_3/cross_attention/value/bias", ("heads", None)),
        ("decoder/block_0/feed_forward/gate_dense/kernel", (None, "heads")),
        ("embed/token_embedding/embeddings", ("heads", None)),
    ]:
        assert layouts[path].axes == axes
    for path in ("dense/kernel", "block_0/self_attention/attention_output/bias", "block_0/feed_forward_norm/gamma",
                 "block_0/other/output_dense/kernel"):
        assert layouts[path] is None, path


def test_data_and_model_parallel_training_match_one_device_on_jax():
    script = pathlib.Path(__file__).with_name("_jax_distribution_script.py")
    env = dict(
        os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu", XLA_FLAGS="--xla_force_host_platform_device_count=8"
    )
    result = subprocess.run([sys.executable, "-W", "ignore", str(script)], env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "jax distribution: ok" in result.stdout
