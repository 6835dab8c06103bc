"""TransformerSchedule: the paper's formula, its peak, and serialization."""

import math

import keras
import numpy as np
import pytest

from keras_attn.training import TransformerSchedule


def paper_rate(step, hidden_dim, warmup_steps, scale=1.0):
    step = max(step, 1)
    return scale * hidden_dim**-0.5 * min(step**-0.5, step * warmup_steps**-1.5)


@pytest.mark.parametrize("hidden_dim,warmup_steps,scale", [(512, 4000, 1.0), (64, 100, 2.0)])
def test_matches_the_formula(hidden_dim, warmup_steps, scale):
    schedule = TransformerSchedule(hidden_dim, warmup_steps=warmup_steps, scale=scale)
    for step in (0, 1, 10, warmup_steps // 2, warmup_steps - 1, warmup_steps, 3 * warmup_steps, 10**6):
        expected = paper_rate(step, hidden_dim, warmup_steps, scale)
        assert float(schedule(step)) == pytest.approx(expected, rel=1e-5)


def test_peaks_at_warmup_steps():
    schedule = TransformerSchedule(128, warmup_steps=50)
    rates = np.array([float(schedule(step)) for step in range(1, 200)])
    assert int(np.argmax(rates)) + 1 == 50
    assert rates.max() == pytest.approx((128 * 50) ** -0.5, rel=1e-5)
    assert np.all(np.diff(rates[:49]) > 0) and np.all(np.diff(rates[49:]) < 0)


def test_config_round_trip_and_registration():
    schedule = TransformerSchedule(256, warmup_steps=10, scale=0.5)
    config = keras.saving.serialize_keras_object(schedule)
    restored = keras.saving.deserialize_keras_object(config)
    assert isinstance(restored, TransformerSchedule)
    assert restored.get_config() == {"hidden_dim": 256, "warmup_steps": 10, "scale": 0.5}
    assert float(restored(7)) == pytest.approx(float(schedule(7)))


def test_drives_an_optimizer():
    optimizer = keras.optimizers.Adam(TransformerSchedule(16, warmup_steps=4))
    variable = keras.Variable(np.ones(3, "float32"))
    optimizer.apply_gradients([(np.ones(3, "float32"), variable)])
    assert float(optimizer.learning_rate) == pytest.approx(paper_rate(1, 16, 4))


@pytest.mark.parametrize("kwargs", [{"hidden_dim": 0}, {"hidden_dim": 8, "warmup_steps": 0}])
def test_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        TransformerSchedule(**kwargs)


def test_step_zero_is_not_a_zero_rate():
    assert float(TransformerSchedule(8, warmup_steps=10)(0)) > 0 and not math.isnan(
        float(TransformerSchedule(8, warmup_steps=10)(0))
    )
