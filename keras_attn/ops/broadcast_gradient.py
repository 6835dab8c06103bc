"""The gradient of an operand that was broadcast: summed back to its own shape.

Shared by the attention kernels' hand-written backward passes, for the
additive bias (`keras_attn/ops/softmax_attention.py`,
`keras_attn/ops/chunked_attention.py`).
"""

from keras import ops


def sum_to_shape(grad, shape):
    """Sum `grad` over the axes on which an operand of `shape` has size 1 (kept as size 1).

    Example:

    >>> import numpy as np
    >>> np.asarray(sum_to_shape(np.ones((2, 3)), (1, 3))).tolist()
    [[2.0, 2.0, 2.0]]
    """
    axes = tuple(axis for axis, size in enumerate(shape) if size == 1 and grad.shape[axis] != 1)
    return ops.sum(grad, axis=axes, keepdims=True) if axes else grad
