"""Beam search: width 1 is greedy on a real cached decoder; a beam as wide as every
candidate finds the exhaustive n-best of a hand-made Markov chain."""

import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_attn.generation import beam_search, greedy_search
from keras_attn.generation.beam_search import length_penalty


def _xla(fn):
    return tf.function(fn, jit_compile=True)


def test_beam_width_one_equals_greedy(tiny_decoder):
    d = tiny_decoder
    greedy = _xla(lambda: greedy_search(d.step_fn, d.start_ids, d.cache(), max_length=7, end_id=2))()
    tokens, scores = _xla(
        lambda: beam_search(d.step_fn, d.start_ids, d.cache(), max_length=7, end_id=2, beam_width=1)
    )()
    assert tuple(tokens.shape) == (3, 1, 7) and tuple(scores.shape) == (3, 1)
    np.testing.assert_array_equal(np.asarray(tokens)[:, 0], np.asarray(greedy))


def test_cached_beam_equals_uncached_beam(tiny_decoder):
    d = tiny_decoder
    search = dict(max_length=7, end_id=2, beam_width=3, num_return_sequences=3)
    cached = _xla(lambda: beam_search(d.step_fn, d.start_ids, d.cache(), **search))()
    full = _xla(lambda: beam_search(d.full_step_fn, d.start_ids, d.full_cache(), **search))()
    np.testing.assert_array_equal(np.asarray(cached[0]), np.asarray(full[0]))
    np.testing.assert_allclose(np.asarray(cached[1]), np.asarray(full[1]), atol=1e-4)


# A Markov chain over 5 tokens (0 pad, 1 start, 2 end): log p(next | last) from a seeded table.
START, END, MAX_LENGTH = 1, 2, 5  # four generated tokens at most
_x = np.random.default_rng(1).normal(size=(5, 5)) * 1.5
LOG_PROBS = (_x - np.log(np.exp(_x).sum(1, keepdims=True))).astype("float32")
ALL_CANDIDATES = sum(4**k for k in range(MAX_LENGTH))  # 341 sequences: ended at step 1..4, or not ended


def _markov_step(ids, cache, index):
    return ops.take(LOG_PROBS, ids[:, 0], axis=0), cache


def _exhaustive(alpha):
    """Every finished or full-length sequence, ranked by log p / length_penalty(length)."""
    ranked = []

    def extend(sequence, log_prob):
        if sequence and (sequence[-1] == END or len(sequence) == MAX_LENGTH - 1):
            ranked.append((log_prob / float(length_penalty(len(sequence), alpha)), sequence))
            return
        last = sequence[-1] if sequence else START
        for token in range(5):
            extend(sequence + [token], log_prob + float(LOG_PROBS[last, token]))

    extend([], 0.0)
    return sorted(ranked, reverse=True)


@pytest.mark.parametrize("alpha", [0.0, 0.6, 3.0])
def test_wide_beam_finds_the_exhaustive_n_best(alpha):
    best = _exhaustive(alpha)
    assert len(best) == ALL_CANDIDATES
    tokens, scores = _xla(
        lambda: beam_search(
            _markov_step, np.array([START]), (), max_length=MAX_LENGTH, end_id=END,
            beam_width=ALL_CANDIDATES, length_penalty_alpha=alpha, num_return_sequences=8,
        )
    )()
    tokens, scores = np.asarray(tokens)[0], np.asarray(scores)[0]
    for (expected_score, expected), row, score in zip(best[:8], tokens, scores):
        generated = row[1 : 1 + len(expected)].tolist()
        assert generated == expected
        assert (row[1 + len(expected) :] == 0).all()  # padding after the end token
        np.testing.assert_allclose(score, expected_score, rtol=1e-5)
    assert (np.diff(scores) <= 0).all()  # best first


def test_length_penalty_changes_the_winner():
    short, long = _exhaustive(0.0)[0][1], _exhaustive(3.0)[0][1]
    assert len(short) < len(long)  # alpha=0 prefers the short sequence, alpha=3 a long one
    for alpha, expected in ((0.0, short), (3.0, long)):
        tokens, _ = beam_search(
            _markov_step, np.array([START]), (), max_length=MAX_LENGTH, end_id=END,
            beam_width=ALL_CANDIDATES, length_penalty_alpha=alpha,
        )
        assert np.asarray(tokens)[0, 0, 1 : 1 + len(expected)].tolist() == expected


def test_argument_errors():
    with pytest.raises(ValueError, match="beam_width"):
        beam_search(_markov_step, np.array([START]), (), max_length=3, beam_width=0)
    with pytest.raises(ValueError, match="num_return_sequences"):
        beam_search(_markov_step, np.array([START]), (), max_length=3, beam_width=2, num_return_sequences=3)
