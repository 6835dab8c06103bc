"""Mean over the real steps of a sequence."""

import keras
from keras import ops

from keras_attn import masking


@keras.saving.register_keras_serializable(package="applications.speech")
class MaskedMeanPooling(keras.layers.Layer):
    """Average `(batch, steps, width)` over the steps its padding mask marks real.

    Padded steps get weight zero, so they never influence the result; an
    example with no real step pools to zeros. Without a mask (explicit or
    Keras implicit) every step is averaged. The sum is taken in float32.

    Call arguments:
        sequence: `(batch, steps, width)`.
        padding_mask: optional `(batch, steps)` bool, `True` on real steps.

    Returns:
        `(batch, width)`.

    Example:

    >>> import numpy as np
    >>> sequence = np.array([[[1.0], [3.0], [100.0]]], "float32")
    >>> mask = np.array([[True, True, False]])
    >>> np.asarray(MaskedMeanPooling()(sequence, padding_mask=mask)).tolist()
    [[2.0]]
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, sequence, padding_mask=None):
        padding_mask = padding_mask if padding_mask is not None else masking.implicit_mask(sequence)
        x = ops.cast(masking.without_implicit_mask(sequence), "float32")  # (B, S, C)
        if padding_mask is None:
            pooled = ops.mean(x, axis=1)
        else:
            weights = ops.expand_dims(ops.cast(padding_mask, "float32"), -1)  # (B, S, 1)
            total = ops.sum(x * weights, axis=1)  # (B, C)
            pooled = total / ops.maximum(ops.sum(weights, axis=1), 1.0)
        return ops.cast(pooled, self.compute_dtype)

    def compute_mask(self, sequence, mask=None):
        return None

    def compute_output_shape(self, sequence_shape):
        return (sequence_shape[0], sequence_shape[-1])
