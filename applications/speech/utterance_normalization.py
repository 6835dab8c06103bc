"""Per-utterance mean and variance normalisation of features over their real frames."""

import keras
from keras import ops

from keras_attn import masking


@keras.saving.register_keras_serializable(package="applications.speech")
class UtteranceNormalization(keras.layers.Layer):
    """Normalise each clip's features to zero mean and unit variance per feature bin.

    Cepstral mean and variance normalisation (CMVN) per utterance: for every
    clip and mel bin, the mean and variance are taken over the clip's real
    frames only, so padding never moves them, and padded frames come out as
    0. It removes what is constant over a clip: its level (a gain in dB adds
    the same amount to every log-mel bin) and the fixed colouring of a voice,
    a microphone or a synthesizer. Statistics in float32.

    Args:
        epsilon: added to the variance before the square root.
        **kwargs: base `Layer` arguments.

    Call arguments:
        features: `(batch, frames, bins)`.
        padding_mask: optional `(batch, frames)` bool, `True` on real frames
            (default: the implicit mask, or every frame).

    Returns:
        `(batch, frames, bins)`.

    Example:

    >>> import numpy as np
    >>> features = np.array([[[1.0], [3.0], [50.0]]], "float32")
    >>> mask = np.array([[True, True, False]])
    >>> np.asarray(UtteranceNormalization(epsilon=0.0)(features, padding_mask=mask)).round(3).tolist()
    [[[-1.0], [1.0], [0.0]]]
    """

    def __init__(self, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        if not epsilon >= 0:
            raise ValueError(f"`epsilon` must be >= 0. Received: epsilon={epsilon}")
        self.epsilon = epsilon
        self.supports_masking = True

    def call(self, features, padding_mask=None):
        padding_mask = padding_mask if padding_mask is not None else masking.implicit_mask(features)
        x = ops.cast(masking.without_implicit_mask(features), "float32")  # (B, F, M)
        if padding_mask is None:
            weights = ops.ones_like(x[..., :1])
        else:
            weights = ops.expand_dims(ops.cast(padding_mask, "float32"), -1)  # (B, F, 1)
        count = ops.maximum(ops.sum(weights, axis=1, keepdims=True), 1.0)  # (B, 1, 1)
        mean = ops.sum(x * weights, axis=1, keepdims=True) / count  # (B, 1, M)
        variance = ops.sum(ops.square(x - mean) * weights, axis=1, keepdims=True) / count
        normalised = (x - mean) / ops.sqrt(variance + self.epsilon) * weights
        return ops.cast(normalised, self.compute_dtype)

    def compute_mask(self, features, mask=None):
        return mask

    def compute_output_shape(self, features_shape):
        return tuple(features_shape)

    def get_config(self):
        config = super().get_config()
        config["epsilon"] = self.epsilon
        return config
