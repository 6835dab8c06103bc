"""Sampling: top_k=1 is greedy on a real cached decoder; top-k/top-p filtering; end tokens."""

import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_attn.generation import greedy_search, sample
from keras_attn.generation.sampling import filter_logits


def _xla(fn):
    return tf.function(fn, jit_compile=True)


def test_top_k_one_equals_greedy(tiny_decoder):
    d = tiny_decoder
    greedy = _xla(lambda: greedy_search(d.step_fn, d.start_ids, d.cache(), max_length=7, end_id=2))()
    sampled = _xla(
        lambda: sample(d.step_fn, d.start_ids, d.cache(), max_length=7, end_id=2, top_k=1, seed=3)
    )()
    np.testing.assert_array_equal(np.asarray(sampled), np.asarray(greedy))


PROBS = np.array([[0.5, 0.3, 0.15, 0.05], [0.05, 0.15, 0.3, 0.5]], "float32")


def test_top_p_keeps_the_smallest_set_reaching_p():
    kept = np.isfinite(np.asarray(filter_logits(np.log(PROBS), top_p=0.75)))
    assert kept.tolist() == [[True, True, False, False], [False, False, True, True]]
    kept = np.isfinite(np.asarray(filter_logits(np.log(PROBS), top_p=0.85)))
    assert kept.sum(axis=1).tolist() == [3, 3]
    assert np.isfinite(np.asarray(filter_logits(np.log(PROBS), top_p=1.0))).all()


def test_top_k_and_temperature():
    logits = np.log(PROBS)
    kept = np.isfinite(np.asarray(filter_logits(logits, top_k=2)))
    assert kept.tolist() == [[True, True, False, False], [False, False, True, True]]
    np.testing.assert_allclose(np.asarray(filter_logits(logits, temperature=2.0)), logits / 2.0, rtol=1e-6)


def _table_step(ids, cache, index):
    # Every step draws from PROBS[0] over tokens 0..3, whatever came before.
    return ops.tile(ops.log(PROBS[:1]), (ops.shape(ids)[0], 1)), cache


def test_samples_only_from_the_nucleus_and_follow_the_distribution():
    tokens = _xla(lambda: sample(_table_step, np.ones(2000, "int32"), (), max_length=2, top_p=0.75, seed=7))()
    drawn = np.asarray(tokens)[:, 1]
    assert set(drawn.tolist()) <= {0, 1}
    np.testing.assert_allclose(np.mean(drawn == 0), 0.5 / 0.8, atol=0.04)


def test_same_seed_same_samples_and_low_temperature_is_greedy(tiny_decoder):
    d = tiny_decoder
    run = lambda **kw: np.asarray(sample(d.step_fn, d.start_ids, d.cache(), max_length=7, **kw))  # noqa: E731
    np.testing.assert_array_equal(run(seed=5), run(seed=5))
    greedy = np.asarray(greedy_search(d.step_fn, d.start_ids, d.cache(), max_length=7))
    np.testing.assert_array_equal(run(temperature=1e-4, seed=5), greedy)


def test_end_token_stops_sampling():
    table = np.full((4, 4), -30.0, "float32")
    table[1, 3], table[3, 2] = 30.0, 30.0  # 1 -> 3 -> end (2)
    step = lambda ids, cache, index: (ops.take(table, ids[:, 0], axis=0), cache)  # noqa: E731
    tokens = sample(step, np.array([1]), (), max_length=6, end_id=2, seed=0)
    assert np.asarray(tokens).tolist() == [[1, 3, 2, 0, 0, 0]]


def test_argument_errors():
    with pytest.raises(ValueError, match="temperature"):
        filter_logits(np.log(PROBS), temperature=0.0)
    with pytest.raises(ValueError, match="top_k"):
        filter_logits(np.log(PROBS), top_k=0)
    with pytest.raises(ValueError, match="top_p"):
        filter_logits(np.log(PROBS), top_p=1.5)


def test_a_loop_of_compiled_steps_with_sample_from_logits_equals_sample(tiny_decoder):
    """The streaming pattern: one compiled step + `sample_from_logits` per token, drawing from
    the same `SeedGenerator` state as `sample`, gives `sample`'s tokens."""
    import keras

    from keras_attn.generation import sample_from_logits

    d = tiny_decoder
    seed = keras.random.SeedGenerator(0)
    options = dict(temperature=1.5, top_k=6)
    seed.state.assign(ops.convert_to_tensor([7, 0], seed.state.dtype))
    whole = _xla(lambda: sample(d.step_fn, d.start_ids, d.cache(), max_length=7, seed=seed, **options))()

    @tf.function(jit_compile=True)
    def step(token_ids, cache, index):
        logits, cache = d.step_fn(token_ids, cache, index)
        uniform = keras.random.uniform((ops.shape(token_ids)[0],), seed=seed)
        return sample_from_logits(ops.cast(logits, "float32"), uniform, **options), cache

    seed.state.assign(ops.convert_to_tensor([7, 0], seed.state.dtype))
    tokens, cache = [d.start_ids], d.cache()
    for index in range(6):
        chosen, cache = step(tokens[-1][:, None], cache, tf.constant(index))
        tokens.append(np.asarray(chosen))
    np.testing.assert_array_equal(np.stack(tokens, axis=1), np.asarray(whole))
