"""Token accuracy that skips padding positions."""

import keras
from keras import ops

from keras_attn.training.token_weights import sparse_labels, token_weights


@keras.saving.register_keras_serializable(package="keras_attn")
class MaskedAccuracy(keras.metrics.Metric):
    """Fraction of non-padding tokens whose arg-max prediction is the label.

    Positions whose label equals `ignore_class` are left out of both the count
    of correct tokens and the count of tokens. The state accumulates over
    batches (and over replicas under `tf.distribute`).

    Args:
        ignore_class: The label of padding positions (`None`: no padding).
            Defaults to `0`.
        name: Metric name. Defaults to `"masked_accuracy"`.

    Example:

    >>> import numpy as np
    >>> metric = MaskedAccuracy(ignore_class=0)
    >>> labels = np.array([[1, 2, 0, 0]])
    >>> logits = np.array([[[0, 9, 0], [0, 9, 0], [0, 9, 0], [9, 0, 0]]], "float32")
    >>> metric.update_state(labels, logits)
    >>> float(metric.result())  # one of the two real tokens is right
    0.5
    """

    def __init__(self, ignore_class=0, name="masked_accuracy", **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(name=name, **kwargs)
        self.ignore_class = ignore_class
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels = sparse_labels(y_true, y_pred)
        predicted = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        weights = token_weights(labels, self.ignore_class, sample_weight)
        hits = ops.cast(ops.equal(predicted, labels), "float32") * weights
        self.correct.assign_add(ops.sum(hits))
        self.total.assign_add(ops.sum(weights))

    def result(self):
        return ops.divide_no_nan(self.correct, self.total)

    def reset_state(self):
        self.correct.assign(0.0)
        self.total.assign(0.0)

    def get_config(self):
        return {"name": self.name, "ignore_class": self.ignore_class}
