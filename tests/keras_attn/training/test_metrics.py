"""MaskedAccuracy: token accuracy that ignores padding."""

import keras
import numpy as np
import pytest

from keras_attn.training import MaskedAccuracy

RNG = np.random.default_rng(0)
LABELS = np.array([[3, 1, 4, 0, 0], [2, 2, 0, 0, 0]])  # 0 is padding
LOGITS = RNG.normal(size=(2, 5, 6)).astype("float32")


def test_metric_ignores_padding():
    metric = MaskedAccuracy(ignore_class=0)
    predicted = LOGITS.argmax(-1)
    real = LABELS != 0
    expected = (predicted[real] == LABELS[real]).mean()
    metric.update_state(LABELS, LOGITS)
    assert float(metric.result()) == pytest.approx(expected)
    # Predictions at padding positions do not matter.
    always_right_on_padding = LOGITS.copy()
    always_right_on_padding[..., 0] = np.where(LABELS == 0, 100.0, -100.0)
    metric.reset_state()
    metric.update_state(LABELS, always_right_on_padding)
    assert float(metric.result()) == pytest.approx(
        (always_right_on_padding.argmax(-1)[real] == LABELS[real]).mean()
    )


def test_metric_accumulates_and_serializes():
    metric = MaskedAccuracy()
    labels = np.array([[1, 2, 0]])
    metric.update_state(labels, np.eye(3)[[[1, 2, 1]]])  # 2 of 2 right
    metric.update_state(labels, np.eye(3)[[[2, 1, 1]]])  # 0 of 2 right
    assert float(metric.result()) == pytest.approx(0.5)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(metric))
    assert isinstance(restored, MaskedAccuracy) and restored.ignore_class == 0



def test_metric_with_sample_weight_and_no_padding_class():
    metric = MaskedAccuracy(ignore_class=None)
    labels = np.array([[1, 0]])
    metric.update_state(labels, np.eye(3)[[[1, 1]]], sample_weight=np.array([3.0]))
    assert float(metric.result()) == pytest.approx(0.5)
