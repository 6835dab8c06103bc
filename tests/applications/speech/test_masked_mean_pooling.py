import numpy as np
from layer_checks import run_layer_checks

from applications.speech.masked_mean_pooling import MaskedMeanPooling


def test_layer_checks():
    sequence = np.random.default_rng(0).standard_normal((2, 5, 3)).astype("float32")
    run_layer_checks(MaskedMeanPooling, {}, {"sequence": sequence}, expected_output_shape=(2, 3))


def test_padded_steps_are_ignored():
    sequence = np.array([[[1.0, 2.0], [3.0, 4.0], [1e6, -1e6]], [[5.0, 5.0], [7.0, 7.0], [9.0, 9.0]]], "float32")
    mask = np.array([[True, True, False], [True, True, True]])
    out = np.asarray(MaskedMeanPooling()(sequence, padding_mask=mask))
    np.testing.assert_allclose(out, [[2.0, 3.0], [7.0, 7.0]])


def test_all_padded_example_pools_to_zero():
    out = MaskedMeanPooling()(np.ones((1, 3, 2), "float32"), padding_mask=np.zeros((1, 3), bool))
    np.testing.assert_array_equal(np.asarray(out), np.zeros((1, 2)))
