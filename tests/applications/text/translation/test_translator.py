"""Translator: for every architecture, cached XLA decoding equals a full recomputation and beam
width 1 equals greedy; compiled once, reused."""

import numpy as np
import tensorflow as tf
from keras import ops

from applications.text.tokenizer import END_ID, PAD_ID, START_ID
from applications.text.translation.translator import Translator
from keras_attn.generation import greedy_search

SENTENCES = ["seven hundred and twelve", "three", "eighty-eight", "four hundred"]


def _uncached_greedy(translator, source_ids):
    """Greedy decoding that runs the whole model on the whole prefix at every step."""
    batch = source_ids.shape[0]

    def step(token_ids, cache, index):
        prefix, source = cache
        prefix = ops.slice_update(prefix, [0, index], token_ids)
        logits = translator.model({"encoder_token_ids": source, "decoder_token_ids": prefix})
        return ops.take(logits, index, axis=1), (prefix, source)

    cache = (ops.zeros((batch, translator.max_length), "int32"), source_ids)
    start = ops.full((batch,), START_ID, "int32")
    return greedy_search(step, start, cache, translator.max_length, end_id=END_ID, pad_id=PAD_ID)


def test_cached_greedy_equals_uncached_greedy(architecture_translator):
    # The RNN: its cached step (recurrent state and context as the cache) equals its
    # teacher-forced pass over the prefix.
    _, translator = architecture_translator
    source_ids = translator.source_ids(SENTENCES)
    cached = translator.generate(source_ids).numpy()
    uncached = tf.function(lambda ids: _uncached_greedy(translator, ids), jit_compile=True)(source_ids)
    np.testing.assert_array_equal(cached, uncached.numpy())
    assert (cached[:, 0] == START_ID).all() and (cached == END_ID).any(axis=1).all()


def test_beam_width_one_and_top_k_one_equal_greedy(architecture_translator):
    _, translator = architecture_translator
    source_ids = translator.source_ids(SENTENCES)
    greedy = translator.generate(source_ids).numpy()
    tokens, scores = translator.generate(source_ids, "beam", beam_width=1)
    np.testing.assert_array_equal(tokens.numpy()[:, 0], greedy)
    sampled = translator.generate(source_ids, "sample", top_k=1, seed=0)
    np.testing.assert_array_equal(sampled.numpy(), greedy)


def test_search_options_agree_and_n_best_is_ranked(numbers_translator):
    greedy = numbers_translator.translate(SENTENCES)
    assert all(isinstance(text, str) and text for text in greedy)
    tokens, scores = numbers_translator.generate(numbers_translator.source_ids(SENTENCES), "beam", beam_width=3,
                                                 num_return_sequences=3)
    assert tuple(tokens.shape) == (4, 3, numbers_translator.max_length)
    assert (np.diff(scores.numpy(), axis=1) <= 0).all()
    # The best of the n-best list is what translate(search="beam") returns.
    best = [t.decode() for t in numbers_translator.tokenizer.detokenize(tokens[:, 0]).numpy()]
    assert numbers_translator.translate(SENTENCES, search="beam", beam_width=3) == best
    assert numbers_translator.translate([]) == []


def test_compiled_once_per_setting_and_shape(numbers_translator):
    translator = Translator(numbers_translator.model, numbers_translator.tokenizer, numbers_translator.config)
    translator.translate(["one", "two"])
    function = translator.compiled_function("greedy")
    assert function.experimental_get_tracing_count() == 1
    translator.translate(["five", "six"])  # same shape: no new trace
    assert translator.compiled_function("greedy") is function
    assert function.experimental_get_tracing_count() == 1
    # More sentences than one batch: padded to `batch_size` rows, one program for every chunk.
    five = translator.translate(["one"] * 5, batch_size=3)
    assert five == [translator.translate(["one"])[0]] * 5
    assert function.experimental_get_tracing_count() == 3  # shapes (2, L), (1, L), (3, L)
    # Fewer sentences than a batch: padded to the next power of two (3 -> 4, 4 -> 4).
    assert translator.translate(["one", "two", "five"]) == translator.translate(["one", "two", "five", "six"])[:3]
    assert function.experimental_get_tracing_count() == 4
