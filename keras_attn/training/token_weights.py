"""Labels and per-token weights for the masked token loss and metric.

`MaskedSparseCategoricalCrossentropy` and `MaskedAccuracy` read their labels
and weigh their tokens the same way; this module is that one way.
"""

from keras import ops


def sparse_labels(y_true, y_pred):
    """int32 labels of shape `S` for predictions `S + (vocab_size,)`; a trailing size-1 axis is dropped.

    Example:

    >>> import numpy as np
    >>> tuple(sparse_labels(np.zeros((2, 3, 1)), np.zeros((2, 3, 5))).shape)
    (2, 3)
    """
    labels = ops.cast(y_true, "int32")
    if len(labels.shape) == len(y_pred.shape) and labels.shape[-1] == 1:
        labels = ops.squeeze(labels, -1)
    return labels


def token_weights(labels, ignore_class, sample_weight=None):
    """float32 weights of shape `labels.shape`: 0 where `labels == ignore_class`, else the sample weight (or 1).

    `sample_weight` broadcasts from the left (`(batch,)` weighs every token of
    an example).

    Example:

    >>> import numpy as np
    >>> np.asarray(token_weights(np.array([[3, 0, 2]]), 0, np.array([2.0]))).tolist()
    [[2.0, 0.0, 2.0]]
    """
    if ignore_class is None:
        weights = ops.ones(ops.shape(labels), "float32")
    else:
        weights = ops.cast(ops.not_equal(labels, ignore_class), "float32")
    if sample_weight is not None:
        sample_weight = ops.cast(sample_weight, "float32")
        while len(sample_weight.shape) < len(weights.shape):
            sample_weight = ops.expand_dims(sample_weight, -1)
        weights = weights * sample_weight
    return weights
