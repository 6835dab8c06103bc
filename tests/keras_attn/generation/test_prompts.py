"""Prompts for greedy search, beam search and sampling on a tiny real decoder-only model:
a prefill equals feeding the prompt token by token, a one-token prompt is today's start id,
rows of different prompt lengths decode as they would alone, one trace per shape."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_attn.generation import beam_search, greedy_search, sample
from keras_attn.generation.prompt import prepare_prompt
from keras_attn.layers import RelativePositionBias, TokenAndPositionEmbedding, TransformerDecoder

VOCABULARY, WIDTH, MAX_LENGTH, BATCH, END_ID = 11, 16, 7, 3, 2


class TinyLanguageModel:
    """Decoder-only: TokenAndPositionEmbedding + TransformerDecoder without cross-attention.

    `step_fn` feeds one token at `index`; `prefill_fn` writes a whole prompt
    into the cache in one pass (cache update index 0). Extra keyword
    arguments go to the decoder (e.g. a `position_bias`).
    """

    def __init__(self, seed=0, batch=BATCH, **decoder_args):
        keras.utils.set_random_seed(seed)
        self.batch = batch
        self.embedding = TokenAndPositionEmbedding(
            VOCABULARY, MAX_LENGTH, WIDTH, mask_zero=False, tie_weights=False,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0),
        )
        self.decoder = TransformerDecoder(num_layers=2, num_heads=2, intermediate_dim=32, **decoder_args)
        self.decoder(self.embedding(np.zeros((batch, MAX_LENGTH), "int32")))

    def cache(self):
        return self.decoder.initial_self_attention_cache(self.batch, MAX_LENGTH)

    def step_fn(self, token_ids, cache, index):
        x = self.embedding(token_ids, start_index=index)  # (B, 1, C)
        x, cache, _ = self.decoder(x, self_attention_cache=cache, self_attention_cache_update_index=index)
        return self.embedding(x, reverse=True)[:, 0], cache

    def prefill_fn(self, prompt_ids, cache):
        x = self.embedding(prompt_ids)  # (B, P, C)
        _, cache, _ = self.decoder(x, self_attention_cache=cache, self_attention_cache_update_index=0)
        return cache


@pytest.fixture(scope="module")
def tiny_language_model():
    return TinyLanguageModel()



PROMPT = np.array([[3, 4, 5, 6], [7, 8, 0, 0], [9, 0, 0, 0]], "int32")  # right-padded, pad_id 0
LENGTHS = np.array([4, 2, 1], "int32")
SEARCHES = {
    "greedy": lambda *args, **kw: greedy_search(*args, **kw),
    "beam": lambda *args, **kw: beam_search(*args, beam_width=3, num_return_sequences=2, **kw),
    "sample": lambda *args, **kw: sample(*args, top_k=4, seed=11, **kw),
}


def _xla(fn):
    return tf.function(fn, jit_compile=True)


def _numpy(output):
    return [np.asarray(x) for x in output] if isinstance(output, tuple) else [np.asarray(output)]


def test_prefill_cache_equals_feeding_the_prompt_token_by_token(tiny_language_model):
    lm = tiny_language_model
    prompt, _ = prepare_prompt(PROMPT, LENGTHS, MAX_LENGTH, pad_id=0)
    prefilled = lm.prefill_fn(prompt, lm.cache())
    stepped = lm.cache()
    for index in range(PROMPT.shape[1]):
        _, stepped = lm.step_fn(prompt[:, index : index + 1], stepped, index)
    np.testing.assert_allclose(np.asarray(prefilled), np.asarray(stepped), atol=1e-5)


@pytest.mark.parametrize("search", sorted(SEARCHES))
def test_prefill_equals_feeding_the_prompt_one_token_at_a_time(tiny_language_model, search):
    lm, run = tiny_language_model, SEARCHES[search]
    common = dict(max_length=MAX_LENGTH, end_id=END_ID, prompt_lengths=LENGTHS)
    stepped = _xla(lambda: run(lm.step_fn, PROMPT, lm.cache(), **common))()
    prefilled = _xla(lambda: run(lm.step_fn, PROMPT, lm.cache(), prefill_fn=lm.prefill_fn, **common))()
    for got, want in zip(_numpy(prefilled), _numpy(stepped)):
        np.testing.assert_allclose(got, want, atol=1e-5)
    tokens = _numpy(prefilled)[0]
    tokens = tokens if search != "beam" else tokens[:, 0]
    for row, length in zip(range(BATCH), LENGTHS):
        np.testing.assert_array_equal(tokens[row, :length], PROMPT[row, :length])  # the output begins with the prompt


@pytest.mark.parametrize("search", sorted(SEARCHES))
def test_one_token_prompt_equals_start_ids(tiny_language_model, search):
    lm, run = tiny_language_model, SEARCHES[search]
    start_ids = PROMPT[:, 0]
    today = run(lm.step_fn, start_ids, lm.cache(), max_length=MAX_LENGTH, end_id=END_ID)
    as_prompt = run(lm.step_fn, start_ids[:, None], lm.cache(), max_length=MAX_LENGTH, end_id=END_ID)
    prefilled = run(
        lm.step_fn, start_ids[:, None], lm.cache(), max_length=MAX_LENGTH, end_id=END_ID, prefill_fn=lm.prefill_fn
    )
    for got, other, want in zip(_numpy(as_prompt), _numpy(prefilled), _numpy(today)):
        np.testing.assert_array_equal(got, want)
        np.testing.assert_allclose(other, want, atol=1e-5)


@pytest.mark.parametrize("search", ["beam", "greedy"])  # sampling draws its numbers per batch row and step
def test_each_row_decodes_as_it_would_alone(search):
    run = SEARCHES[search]
    batched = TinyLanguageModel()
    together = _numpy(
        run(batched.step_fn, PROMPT, batched.cache(), max_length=MAX_LENGTH, prompt_lengths=LENGTHS,
            prefill_fn=batched.prefill_fn)
    )
    alone = TinyLanguageModel(batch=1)  # the same weights: same seed
    for row, length in enumerate(LENGTHS):
        single = _numpy(
            run(alone.step_fn, PROMPT[row : row + 1, :length], alone.cache(), max_length=MAX_LENGTH,
                prefill_fn=alone.prefill_fn)
        )
        for got, want in zip(together, single):
            np.testing.assert_allclose(got[row : row + 1], want, atol=1e-5)


def test_per_row_lengths_sampling_with_top_k_one_and_beam_width_one_equal_greedy(tiny_language_model):
    lm = tiny_language_model
    common = dict(max_length=MAX_LENGTH, end_id=END_ID, prompt_lengths=LENGTHS, prefill_fn=lm.prefill_fn)
    greedy = np.asarray(_xla(lambda: greedy_search(lm.step_fn, PROMPT, lm.cache(), **common))())
    sampled = _xla(lambda: sample(lm.step_fn, PROMPT, lm.cache(), top_k=1, seed=3, **common))()
    tokens, _ = _xla(lambda: beam_search(lm.step_fn, PROMPT, lm.cache(), beam_width=1, **common))()
    np.testing.assert_array_equal(np.asarray(sampled), greedy)
    np.testing.assert_array_equal(np.asarray(tokens)[:, 0], greedy)


def test_same_seed_same_sample_with_a_prompt(tiny_language_model):
    lm = tiny_language_model
    run = lambda seed: np.asarray(  # noqa: E731
        sample(lm.step_fn, PROMPT, lm.cache(), max_length=MAX_LENGTH, prompt_lengths=LENGTHS,
               prefill_fn=lm.prefill_fn, seed=seed)
    )
    np.testing.assert_array_equal(run(5), run(5))
    assert any((run(seed) != run(5)).any() for seed in (6, 7, 8))


def test_prompt_tokens_add_nothing_to_beam_scores():
    # A Markov chain: the prompt 1 -> 3 is forced however improbable; the scores count
    # only the generated tokens (3 -> 4 -> end).
    table = np.full((6, 6), -20.0, "float32")
    table[1, 2], table[3, 4], table[4, 2] = 0.0, 0.0, 0.0  # 1 -> end is certain, 1 -> 3 is not
    step = lambda ids, cache, index: (ops.take(table, ids[:, 0], axis=0), cache)  # noqa: E731
    tokens, scores = beam_search(
        step, np.array([[1, 3]]), (), max_length=5, end_id=2, beam_width=2, length_penalty_alpha=0.0
    )
    assert np.asarray(tokens)[0, 0].tolist() == [1, 3, 4, 2, 0]
    np.testing.assert_allclose(np.asarray(scores)[0, 0], 2 * np.log(1 / (1 + 5 * np.exp(-20.0))), atol=1e-6)


def test_compiled_once_per_shape(tiny_language_model):
    lm, traces = tiny_language_model, []

    @tf.function(jit_compile=True)
    def generate(prompt, lengths):
        traces.append(1)
        return greedy_search(
            lm.step_fn, prompt, lm.cache(), max_length=MAX_LENGTH, prompt_lengths=lengths, prefill_fn=lm.prefill_fn
        )

    first = generate(tf.constant(PROMPT), tf.constant(LENGTHS))
    second = generate(tf.constant(PROMPT[::-1]), tf.constant([1, 3, 2], "int32"))
    assert len(traces) == 1
    assert not np.array_equal(np.asarray(first), np.asarray(second))


def test_relative_bias_model_prefill_equals_token_by_token():
    lm = TinyLanguageModel(position_bias=RelativePositionBias(2, num_buckets=8, max_distance=16, bidirectional=False))
    common = dict(max_length=MAX_LENGTH, prompt_lengths=LENGTHS)
    stepped = greedy_search(lm.step_fn, PROMPT, lm.cache(), **common)
    prefilled = greedy_search(lm.step_fn, PROMPT, lm.cache(), prefill_fn=lm.prefill_fn, **common)
    np.testing.assert_array_equal(np.asarray(prefilled), np.asarray(stepped))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(start_ids=np.zeros((2, 8), "int32")), "max_length"),
        (dict(start_ids=np.zeros((2, 2, 2), "int32")), "start_ids"),
        (dict(start_ids=np.zeros((2, 2), "int32"), prompt_lengths=np.ones((2, 1))), "prompt_lengths"),
    ],
)
def test_bad_prompts(kwargs, message):
    with pytest.raises(ValueError, match=message):
        greedy_search(lambda ids, cache, index: (None, cache), cache=(), max_length=7, **kwargs)
