"""Token-level cross-entropy that skips padding positions."""

import keras
from keras import ops

from keras_attn.training.token_weights import sparse_labels, token_weights


def _replicas_in_sync():
    """Replicas the current `tf.distribute` strategy runs in step (1 outside one)."""
    if keras.backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


@keras.saving.register_keras_serializable(package="keras_attn")
class MaskedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Sparse categorical cross-entropy averaged over the non-padding tokens.

    Positions whose label equals `ignore_class` add nothing to the loss and do
    not count in the mean: the loss is `sum(loss_t * w_t) / sum(w_t)` where `w_t`
    is 0 on padding and otherwise the sample weight (1 without one). With
    `label_smoothing = eps` the target distribution is
    `(1 - eps) * one_hot(label) + eps / vocab_size`, smoothing over the whole
    vocabulary. Logits are cast to float32 first, so the loss is computed and
    returned in float32 under `mixed_float16` / `mixed_bfloat16` too.

    Under a `tf.distribute` strategy each replica returns its own token mean
    divided by the replica count, as Keras' built-in losses do, so the summed
    gradients are the mean of the replicas' means. A Keras mask on `y_pred` is
    not used: padding comes from the labels alone.

    Args:
        ignore_class: The label of padding positions (`None`: no padding).
            Defaults to `0`.
        label_smoothing: `eps` in `[0, 1)`. Defaults to `0.0`.
        from_logits: Whether `y_pred` holds logits (`True`) or probabilities.
            Defaults to `True`.
        name: Loss name.

    Call arguments:
        y_true: Integer labels, `(batch, length)` (any shape `S`).
        y_pred: Logits or probabilities, `S + (vocab_size,)`.
        sample_weight: Optional weights broadcastable to `S`.

    Returns:
        A float32 scalar.

    Example:

    >>> import numpy as np
    >>> loss = MaskedSparseCategoricalCrossentropy(ignore_class=0)
    >>> labels = np.array([[1, 2, 0]])
    >>> probs = np.array([[[0.1, 0.8, 0.1], [0.1, 0.2, 0.7], [0.9, 0.05, 0.05]]])
    >>> logits = np.log(probs)
    >>> round(float(loss(labels, logits)), 4)  # -(log 0.8 + log 0.7) / 2
    0.2899
    """

    def __init__(
        self,
        ignore_class=0,
        label_smoothing=0.0,
        from_logits=True,
        name="masked_sparse_categorical_crossentropy",
    ):
        super().__init__(name=name, reduction="sum_over_batch_size", dtype="float32")
        if not 0.0 <= float(label_smoothing) < 1.0:
            raise ValueError(
                "`label_smoothing` must be in [0, 1). "
                f"Received: label_smoothing={label_smoothing}"
            )
        self.ignore_class = ignore_class
        self.label_smoothing = float(label_smoothing)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        """Per-position losses in float32 (padding positions included)."""
        y_pred = ops.cast(y_pred, "float32")
        labels = ops.cast(y_true, "int32")
        vocab_size = y_pred.shape[-1]
        if self.from_logits:
            log_probs = ops.log_softmax(y_pred, axis=-1)
        else:
            log_probs = ops.log(ops.clip(y_pred, keras.backend.epsilon(), 1.0))
        # Padding labels may lie outside the vocabulary (e.g. -1): clip before gathering.
        safe_labels = ops.clip(labels, 0, vocab_size - 1)
        nll = -ops.squeeze(
            ops.take_along_axis(log_probs, ops.expand_dims(safe_labels, -1), axis=-1), -1
        )
        if self.label_smoothing:
            eps = self.label_smoothing
            uniform = -ops.mean(log_probs, axis=-1)
            return (1.0 - eps) * nll + eps * uniform
        return nll

    def __call__(self, y_true, y_pred, sample_weight=None):
        labels = sparse_labels(y_true, y_pred)
        per_token = self.call(labels, y_pred)
        weights = token_weights(labels, self.ignore_class, sample_weight)
        loss = ops.divide_no_nan(ops.sum(per_token * weights), ops.sum(weights))
        replicas = _replicas_in_sync()
        if replicas > 1:
            loss = loss / float(replicas)
        return loss

    def get_config(self):
        return {
            "name": self.name,
            "ignore_class": self.ignore_class,
            "label_smoothing": self.label_smoothing,
            "from_logits": self.from_logits,
        }
