"""Validation of the explicit `positions=` argument of the position layers.

`PositionEmbedding` and `SinusoidalPositionEncoding` accept, like keras-hub's
layers, the position of every step instead of a `start_index`: `(length,)`
for the whole batch or `(batch, length)` per example (packed or left-padded
sequences). Checked here, once for both.
"""

import numpy as np
from keras import ops


def checked_positions(positions, inputs, start_index, limit=None):
    """`positions` as an int32 tensor, after checking it against `inputs`.

    Args:
        positions: `(length,)` or `(batch, length)` integers.
        inputs: the layer's `(..., length, dim)` input.
        start_index: must be the default `0` when `positions` is given.
        limit: positions must be below it (a table's size), or `None`.

    Concrete values (numpy arrays, lists, eager tensors) are range-checked;
    symbolic ones (inside a compiled function) for rank and length only.

    Example:

    >>> import numpy as np
    >>> np.asarray(checked_positions([2, 0, 1], np.zeros((1, 3, 4)), 0, limit=5)).tolist()
    [2, 0, 1]
    """
    if not (isinstance(start_index, int) and start_index == 0):
        raise ValueError(
            "Pass either `start_index` or `positions`, not both. "
            f"Received: start_index={start_index}, positions of shape {tuple(np.shape(positions))}"
        )
    try:  # concrete values: host arrays and eager tensors
        values = np.asarray(positions)
    except Exception:  # symbolic (graph tensor, tracer, KerasTensor): checked below for shape only
        values = None
    if values is not None:
        if not np.issubdtype(values.dtype, np.integer):
            raise ValueError(f"`positions` must be integers. Received dtype {values.dtype}")
        if values.size and (values.min() < 0 or (limit is not None and values.max() >= limit)):
            raise ValueError(
                f"`positions` must be in [0, {limit}) for this layer. "
                f"Received values from {values.min()} to {values.max()}"
            )
    positions = ops.convert_to_tensor(positions)
    length = inputs.shape[-2]
    if len(positions.shape) not in (1, 2) or (
        isinstance(length, int) and isinstance(positions.shape[-1], int) and positions.shape[-1] != length
    ):
        raise ValueError(
            "`positions` must have shape (sequence_length,) or (batch, sequence_length), matching "
            f"the inputs. Received: positions.shape={tuple(positions.shape)}, "
            f"inputs.shape={tuple(inputs.shape)}"
        )
    return ops.cast(positions, "int32")
