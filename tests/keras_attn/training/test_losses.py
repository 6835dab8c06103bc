"""MaskedSparseCategoricalCrossentropy against hand computation."""

import keras
import numpy as np
import pytest

from keras_attn.training import MaskedAccuracy, MaskedSparseCategoricalCrossentropy

RNG = np.random.default_rng(0)
LABELS = np.array([[3, 1, 4, 0, 0], [2, 2, 0, 0, 0]])  # 0 is padding
LOGITS = RNG.normal(size=(2, 5, 6)).astype("float32")


def log_softmax(logits):
    logits = logits.astype("float64")
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def manual_loss(labels, logits, smoothing=0.0, ignore=0, weights=None):
    logp = log_softmax(logits)
    vocab = logits.shape[-1]
    total, count = 0.0, 0.0
    for b in range(labels.shape[0]):
        for t in range(labels.shape[1]):
            if labels[b, t] == ignore:
                continue
            target = np.full(vocab, smoothing / vocab)
            target[labels[b, t]] += 1.0 - smoothing
            w = 1.0 if weights is None else weights[b]
            total += w * -(target * logp[b, t]).sum()
            count += w
    return total / count


def test_loss_ignores_padding():
    loss = MaskedSparseCategoricalCrossentropy(ignore_class=0)
    assert float(loss(LABELS, LOGITS)) == pytest.approx(manual_loss(LABELS, LOGITS), rel=1e-5)
    # Changing the logits at padding positions changes nothing.
    noisy = LOGITS.copy()
    noisy[LABELS == 0] = 100.0
    assert float(loss(LABELS, noisy)) == pytest.approx(float(loss(LABELS, LOGITS)), rel=1e-6)


def test_loss_with_label_smoothing():
    loss = MaskedSparseCategoricalCrossentropy(ignore_class=0, label_smoothing=0.1)
    expected = manual_loss(LABELS, LOGITS, smoothing=0.1)
    assert float(loss(LABELS, LOGITS)) == pytest.approx(expected, rel=1e-5)
    assert expected != pytest.approx(manual_loss(LABELS, LOGITS), rel=1e-3)


def test_loss_with_sample_weight_and_other_ignore_class():
    labels = np.where(LABELS == 0, -1, LABELS)
    weights = np.array([2.0, 0.5], "float32")
    loss = MaskedSparseCategoricalCrossentropy(ignore_class=-1)
    expected = manual_loss(labels, LOGITS, ignore=-1, weights=weights)
    assert float(loss(labels, LOGITS, sample_weight=weights)) == pytest.approx(expected, rel=1e-5)


def test_loss_from_probabilities():
    probs = np.exp(log_softmax(LOGITS)).astype("float32")
    loss = MaskedSparseCategoricalCrossentropy(from_logits=False)
    assert float(loss(LABELS, probs)) == pytest.approx(manual_loss(LABELS, LOGITS), rel=1e-4)


def test_loss_of_all_padding_is_zero_not_nan():
    loss = MaskedSparseCategoricalCrossentropy()
    assert float(loss(np.zeros((1, 3), "int32"), LOGITS[:1, :3])) == 0.0


def test_loss_is_float32_for_float16_logits_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        loss = MaskedSparseCategoricalCrossentropy(label_smoothing=0.1)
        value = loss(LABELS, keras.ops.cast(LOGITS, "float16"))
        assert keras.backend.standardize_dtype(value.dtype) == "float32"
        expected = manual_loss(LABELS, LOGITS.astype("float16").astype("float32"), smoothing=0.1)
        assert float(value) == pytest.approx(expected, rel=1e-5)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_loss_config_round_trip():
    loss = MaskedSparseCategoricalCrossentropy(ignore_class=5, label_smoothing=0.2, from_logits=False)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert isinstance(restored, MaskedSparseCategoricalCrossentropy)
    assert (restored.ignore_class, restored.label_smoothing, restored.from_logits) == (5, 0.2, False)


def test_compiles_and_trains_a_sequence_model():
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [keras.Input((5,), dtype="int32"), keras.layers.Embedding(7, 8), keras.layers.Dense(7)]
    )
    model.compile(
        optimizer="adam",
        loss=MaskedSparseCategoricalCrossentropy(label_smoothing=0.1),
        metrics=[MaskedAccuracy()],
    )
    x = np.tile(LABELS, (8, 1))
    history = model.fit(x, x, epochs=2, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert 0.0 <= history.history["masked_accuracy"][-1] <= 1.0
