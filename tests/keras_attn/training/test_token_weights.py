"""keras_attn.training.token_weights: the labels and weights the masked loss and metric share."""

import keras
import numpy as np

from keras_attn.training.token_weights import sparse_labels, token_weights


def test_sparse_labels_drop_only_a_trailing_size_one_axis():
    assert tuple(sparse_labels(np.ones((2, 4, 1)), np.zeros((2, 4, 7))).shape) == (2, 4)
    assert tuple(sparse_labels(np.ones((2, 4)), np.zeros((2, 4, 7))).shape) == (2, 4)
    assert keras.backend.standardize_dtype(sparse_labels(np.ones((2, 4)), np.zeros((2, 4, 7))).dtype) == "int32"


def test_weights_mask_padding_and_broadcast_sample_weights():
    labels = np.array([[5, 1, 0], [0, 2, 3]])
    np.testing.assert_array_equal(token_weights(labels, None), np.ones((2, 3)))
    np.testing.assert_array_equal(token_weights(labels, 0), [[1, 1, 0], [0, 1, 1]])
    np.testing.assert_array_equal(token_weights(labels, 0, np.array([2.0, 0.5])), [[2, 2, 0], [0, 0.5, 0.5]])
    per_token = np.array([[1.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(token_weights(labels, 0, per_token), [[1, 0, 0], [0, 1, 1]])
