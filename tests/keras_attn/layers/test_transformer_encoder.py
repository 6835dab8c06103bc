"""TransformerEncoder stack."""

import numpy as np

from keras_attn.layers import TransformerEncoder
from layer_checks import run_layer_checks


def test_generic_layer_checks():
    x = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
    run_layer_checks(
        TransformerEncoder,
        dict(num_layers=2, num_heads=2, intermediate_dim=16, stochastic_depth_rate=0.2),
        {"sequence": x, "padding_mask": np.array([[1, 1, 1, 0, 0], [1] * 5], bool)},
        expected_output_shape=(2, 5, 8),
    )


def test_stochastic_depth_grows_linearly_and_final_norm_follows_norm_first():
    encoder = TransformerEncoder(num_layers=3, num_heads=2, intermediate_dim=8, stochastic_depth_rate=0.2)
    assert [b.stochastic_depth_rate for b in encoder.blocks] == [0.0, 0.1, 0.2]
    assert encoder.output_norm is not None
    assert TransformerEncoder(num_layers=1, num_heads=2, intermediate_dim=8, norm_first=False).output_norm is None
