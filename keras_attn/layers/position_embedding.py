"""Learned absolute position embeddings, resizable by interpolation."""

import keras
from keras import ops

from keras_attn.layers.explicit_positions import checked_positions

_INTERPOLATIONS = ("bilinear", "bicubic")


def _check_grid_shape(grid_shape, name):
    if grid_shape is None:
        return None
    if (
        not isinstance(grid_shape, (tuple, list))
        or len(grid_shape) != 2
        or not all(isinstance(size, int) and size > 0 for size in grid_shape)
    ):
        raise ValueError(
            f"`{name}` must be a pair of positive ints (rows, cols). Received: {name}={grid_shape}"
        )
    return tuple(grid_shape)


def interpolate_position_embeddings(
    embeddings,
    new_length=None,
    grid_shape=None,
    new_grid_shape=None,
    interpolation="bilinear",
):
    """Resize a `(length, dim)` table of position embeddings by interpolation.

    Without `grid_shape` the table is a 1-D sequence resized to `new_length`
    (linear interpolation for `"bilinear"`, cubic for `"bicubic"`). With
    `grid_shape=(rows, cols)` the table holds a row-major 2-D grid (the patches of
    a Vision Transformer) and is resized on that grid to `new_grid_shape`; a
    `new_length`, if also given, must equal `new_rows * new_cols`.

    The interpolation is `keras.ops.image.resize`: half-pixel centres, as in
    TensorFlow, JAX and timm. Each embedding is a sample at the centre of its cell,
    so the first and last samples of the new table sit half a new cell from the
    border, not on the old corner samples; when upsampling, the outermost new
    samples fall outside the old centres and take the nearest edge value. A linear
    ramp therefore stays an exact linear ramp in the interior and is clamped at
    the edges; downsampling by an integer factor keeps a ramp exactly linear. The
    same size returns the input unchanged (exactly). The table is interpolated in
    float32 and returned in its own dtype.

    Args:
        embeddings: `(length, dim)` array or tensor.
        new_length: the new number of positions (1-D case).
        grid_shape: `(rows, cols)` with `rows * cols == length`, for a 2-D grid.
        new_grid_shape: `(new_rows, new_cols)`, required with `grid_shape`.
        interpolation: `"bilinear"` or `"bicubic"`.

    Returns:
        `(new_length, dim)` tensor.

    Example:

    >>> import numpy as np
    >>> table = np.array([[0.0], [2.0], [4.0], [6.0]], "float32")
    >>> np.asarray(interpolate_position_embeddings(table, new_length=2)).tolist()
    [[1.0], [5.0]]
    """
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(
            f"`interpolation` must be one of {_INTERPOLATIONS}. Received: interpolation={interpolation!r}"
        )
    embeddings = ops.convert_to_tensor(embeddings)
    if len(embeddings.shape) != 2:
        raise ValueError(
            "`embeddings` must have shape (length, dim). "
            f"Received: embeddings.shape={tuple(embeddings.shape)}"
        )
    length, dim = embeddings.shape
    grid_shape = _check_grid_shape(grid_shape, "grid_shape")
    new_grid_shape = _check_grid_shape(new_grid_shape, "new_grid_shape")
    if grid_shape is None:
        if new_grid_shape is not None:
            raise ValueError(
                "`new_grid_shape` needs the old `grid_shape`. Received: "
                f"grid_shape=None, new_grid_shape={new_grid_shape}"
            )
        if not isinstance(new_length, int) or new_length < 1:
            raise ValueError(f"`new_length` must be a positive int. Received: new_length={new_length}")
        # A 1-D sequence is a (length, 1) image.
        grid_shape, new_grid_shape = (length, 1), (new_length, 1)
    else:
        if grid_shape[0] * grid_shape[1] != length:
            raise ValueError(
                "`grid_shape` must multiply to the number of positions. Received: "
                f"grid_shape={grid_shape}, embeddings.shape={tuple(embeddings.shape)}"
            )
        if new_grid_shape is None:
            raise ValueError(
                f"`new_grid_shape` is required with `grid_shape`. Received: grid_shape={grid_shape}, "
                "new_grid_shape=None"
            )
        if new_length is not None and new_length != new_grid_shape[0] * new_grid_shape[1]:
            raise ValueError(
                "`new_length` must equal the product of `new_grid_shape`. Received: "
                f"new_length={new_length}, new_grid_shape={new_grid_shape}"
            )
    if new_grid_shape == grid_shape:
        return embeddings
    dtype = embeddings.dtype
    image = ops.reshape(ops.cast(embeddings, "float32"), (1, *grid_shape, dim))  # (1, R, C, D)
    resized = ops.image.resize(
        image, new_grid_shape, interpolation=interpolation, data_format="channels_last"
    )  # (1, R', C', D)
    resized = ops.reshape(resized, (new_grid_shape[0] * new_grid_shape[1], dim))
    return ops.cast(resized, dtype)


@keras.saving.register_keras_serializable(package="keras_attn")
class PositionEmbedding(keras.layers.Layer):
    """Learned position embeddings, one trainable vector per position.

    Returns the embeddings of positions `start_index ... start_index + T - 1`
    broadcast to the inputs' shape, for the caller to add (the behaviour of
    `keras_hub.layers.PositionEmbedding`). Inputs shorter than
    `sequence_length` use the first rows of the table.

    A trained table can be moved to another length with `resized`, which
    interpolates it (see `interpolate_position_embeddings`). With
    `grid_shape=(rows, cols)` the positions are the row-major cells of a 2-D
    grid, e.g. the patches of a Vision Transformer, and are interpolated on
    that grid: fine-tuning at a higher image resolution is
    `layer.resized(new_grid_shape=(new_rows, new_cols))`. A class token, if the
    model has one, needs its own position vector outside this grid.

    Args:
        sequence_length: the number of positions (the longest input).
        grid_shape: optional `(rows, cols)` with `rows * cols == sequence_length`.
        initializer: initializer of the table. Defaults to `"glorot_uniform"`.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `(batch, T, dim)` with `start_index + T <= sequence_length`;
            only its shape is used.
        start_index: int or scalar integer tensor, the first position (for
            cached decoding). Defaults to `0`.
        positions: instead of `start_index`, the table row of every step:
            integers in `[0, sequence_length)`, `(T,)` or `(batch, T)` (as
            keras-hub's `PositionEmbedding`).

    Returns:
        `(batch, T, dim)` position embeddings in the compute dtype.

    Masking: an incoming Keras mask is passed through unchanged.

    Example:

    >>> import numpy as np
    >>> layer = PositionEmbedding(sequence_length=4, initializer="ones")
    >>> np.asarray(layer(np.zeros((2, 3, 5), "float32"))).shape
    (2, 3, 5)
    >>> bigger = layer.resized(new_sequence_length=8)
    >>> tuple(bigger.position_embeddings.shape)
    (8, 5)
    """

    def __init__(self, sequence_length, grid_shape=None, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(sequence_length, int) or sequence_length < 1:
            raise ValueError(
                f"`sequence_length` must be a positive int. Received: sequence_length={sequence_length}"
            )
        grid_shape = _check_grid_shape(grid_shape, "grid_shape")
        if grid_shape is not None and grid_shape[0] * grid_shape[1] != sequence_length:
            raise ValueError(
                "`sequence_length` must equal rows * cols of `grid_shape`. Received: "
                f"sequence_length={sequence_length}, grid_shape={grid_shape}"
            )
        self.sequence_length = sequence_length
        self.grid_shape = grid_shape
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        if len(inputs_shape) < 2 or inputs_shape[-1] is None:
            raise ValueError(
                "`inputs` must have shape (batch, sequence_length, dim) with a known dim. "
                f"Received: inputs.shape={tuple(inputs_shape)}"
            )
        self.position_embeddings = self.add_weight(
            name="embeddings",
            shape=(self.sequence_length, inputs_shape[-1]),
            initializer=self.initializer,
            trainable=True,
        )
        self.built = True

    def call(self, inputs, start_index=0, positions=None):
        shape = ops.shape(inputs)
        length, dim = shape[-2], shape[-1]
        if positions is not None:
            positions = checked_positions(positions, inputs, start_index, limit=self.sequence_length)
            table = ops.cast(self.position_embeddings, self.compute_dtype)  # (L, D)
            return ops.broadcast_to(ops.take(table, positions, axis=0), shape)  # rows (T, D) or (B, T, D)
        if isinstance(inputs.shape[-2], int) and isinstance(start_index, int):
            if start_index + inputs.shape[-2] > self.sequence_length:
                raise ValueError(
                    "The inputs are longer than the position table. Received: "
                    f"inputs.shape={tuple(inputs.shape)}, start_index={start_index}, "
                    f"sequence_length={self.sequence_length}"
                )
        table = ops.cast(self.position_embeddings, self.compute_dtype)  # (L, D)
        embeddings = ops.slice(table, (start_index, 0), (length, dim))  # (T, D)
        return ops.broadcast_to(embeddings, shape)

    def resized(self, new_sequence_length=None, new_grid_shape=None, interpolation="bilinear"):
        """A new built `PositionEmbedding` holding this table interpolated to a new size.

        Pass `new_sequence_length` for a 1-D table, `new_grid_shape=(rows, cols)`
        for a layer with a `grid_shape`. The same size copies the table exactly.
        This layer is left unchanged.
        """
        if not self.built:
            raise ValueError(f"Layer '{self.name}' must be built (called once) before `resized`.")
        if self.grid_shape is not None:
            if new_grid_shape is None:
                raise ValueError(
                    f"A layer with grid_shape={self.grid_shape} is resized with `new_grid_shape`. "
                    "Received: new_grid_shape=None"
                )
            new_grid_shape = _check_grid_shape(new_grid_shape, "new_grid_shape")
            new_sequence_length = new_grid_shape[0] * new_grid_shape[1]
        elif new_grid_shape is not None:
            raise ValueError(
                "This layer has no `grid_shape`; resize it with `new_sequence_length`. "
                f"Received: new_grid_shape={new_grid_shape}"
            )
        table = interpolate_position_embeddings(
            self.position_embeddings,
            new_length=new_sequence_length,
            grid_shape=self.grid_shape,
            new_grid_shape=new_grid_shape,
            interpolation=interpolation,
        )
        config = self.get_config()
        config.update({"sequence_length": new_sequence_length, "grid_shape": new_grid_shape})
        layer = self.__class__.from_config(config)
        layer.build((None, new_sequence_length, self.position_embeddings.shape[-1]))
        layer.position_embeddings.assign(table)
        return layer

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "grid_shape": None if self.grid_shape is None else list(self.grid_shape),
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config
