"""Greedy search over a real cached decoder, compiled with XLA."""

import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_attn.generation import greedy_search


def _xla(fn):
    return tf.function(fn, jit_compile=True)


def test_cached_greedy_equals_uncached_greedy_token_for_token(tiny_decoder):
    d = tiny_decoder
    cached = _xla(lambda: greedy_search(d.step_fn, d.start_ids, d.cache(), max_length=7))()
    full = _xla(lambda: greedy_search(d.full_step_fn, d.start_ids, d.full_cache(), max_length=7))()
    cached, full = np.asarray(cached), np.asarray(full)
    assert cached.shape == (3, 7)
    np.testing.assert_array_equal(cached, full)
    assert len({tuple(row) for row in cached}) > 1  # the rows (sources) really differ


def test_compiled_equals_eager(tiny_decoder):
    d = tiny_decoder
    eager = greedy_search(d.step_fn, d.start_ids, d.cache(), max_length=7)
    compiled = _xla(lambda: greedy_search(d.step_fn, d.start_ids, d.cache(), max_length=7))()
    np.testing.assert_array_equal(np.asarray(eager), np.asarray(compiled))


# A hand-made Markov chain: token t -> t + 1, and token 4 -> end (2).
TABLE = np.full((6, 6), -10.0, "float32")
for token, following in {0: 0, 1: 3, 2: 0, 3: 4, 4: 2, 5: 2}.items():
    TABLE[token, following] = 10.0


def _markov_step(calls):
    def step(ids, cache, index):
        calls.append(1)  # counted at trace time only; the count check runs eagerly
        return ops.take(TABLE, ids[:, 0], axis=0), cache

    return step


def test_end_token_stops_and_pads():
    tokens = _xla(lambda: greedy_search(_markov_step([]), np.array([1, 5]), (), max_length=6, end_id=2))()
    assert np.asarray(tokens).tolist() == [[1, 3, 4, 2, 0, 0], [5, 2, 0, 0, 0, 0]]


def test_loop_stops_when_every_sequence_ended():
    calls = []
    greedy_search(_markov_step(calls), np.array([1, 4]), (), max_length=10, end_id=2)
    assert len(calls) == 3  # 1 -> 3 -> 4 -> 2 needs three steps; the loop then ends


def test_without_end_token_fills_max_length():
    tokens = greedy_search(_markov_step([]), np.array([1]), (), max_length=5)
    assert np.asarray(tokens).tolist() == [[1, 3, 4, 2, 0]]


@pytest.mark.parametrize("pad_id", [0, 5])
def test_pad_id_fills_after_end(pad_id):
    tokens = greedy_search(_markov_step([]), np.array([4]), (), max_length=4, end_id=2, pad_id=pad_id)
    assert np.asarray(tokens).tolist() == [[4, 2, pad_id, pad_id]]
