"""Generation: cached decoding equals recomputing the prefix, a prefill equals feeding the
prompt token by token, seeds, top-k 1 is greedy, streaming equals the returned text, windows
slide past the context, unseen characters and long prompts do not fail."""

import logging

import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from applications.text.gpt.generator import Generator, segment_plan
from applications.text.gpt.tokenizers import CharacterTokenizer

CONTEXT = 8


def _generator(tiny_model, positions):
    tokenizer = CharacterTokenizer(list("abcdefghi\n"))  # 12 ids
    model, _ = tiny_model(vocabulary_size=tokenizer.vocabulary_size, sequence_length=CONTEXT, positions=positions)
    return Generator(model, tokenizer, CONTEXT)


@pytest.fixture(scope="module")
def generator(tiny_model):
    return _generator(tiny_model, "learned")


def _greedy_by_full_passes(model, ids, new_tokens):
    """The reference: the whole prefix through the model again for every token, no cache."""
    ids = list(ids)
    for _ in range(new_tokens):
        logits = np.array(model(np.array([ids[-CONTEXT:]], "int32")))[0, -1]
        logits[:2] = -np.inf  # padding and unknown are never generated
        ids.append(int(np.argmax(logits)))
    return ids


@pytest.mark.parametrize("positions", ["learned", "rotary"])
def test_cached_greedy_generation_equals_recomputing_the_prefix(tiny_model, positions):
    generator = _generator(tiny_model, positions)
    prompt = [2, 5, 3]
    [new] = generator.continue_ids(prompt, 5)  # 3 + 5 = the whole context
    assert prompt + new == _greedy_by_full_passes(generator.model, prompt, 5)


def test_prefill_equals_feeding_the_prompt_token_by_token(generator):
    prompt = tf.constant([[2, 5, 3, 7, 4]], tf.int32)
    prefilled = generator.prefill_fn(prompt, generator.initial_cache(1))
    stepped = generator.initial_cache(1)
    for index in range(5):
        _, stepped = generator.step_fn(prompt[:, index : index + 1], stepped, index)
    np.testing.assert_allclose(np.asarray(prefilled), np.asarray(stepped), atol=1e-5)


def test_same_seed_same_sample_and_top_k_one_is_greedy(generator):
    run = lambda **options: generator.generate(["abc"], max_new_tokens=5, num_samples=2, **options)  # noqa: E731
    first, again = run(seed=4), run(seed=4)
    assert first == again
    assert any(run(seed=seed) != first for seed in (5, 6, 7))
    assert len({result["continuation"] for result in first}) > 1  # a prompt's samples differ
    greedy = run(greedy=True)
    assert run(seed=2, top_k=1) == greedy
    assert [result["sample"] for result in greedy] == [0, 1]


@pytest.mark.parametrize("max_new_tokens", [5, 19])  # 19: five windows, the window slides
def test_streamed_text_equals_the_returned_text(generator, max_new_tokens):
    options = dict(max_new_tokens=max_new_tokens, temperature=1.5, top_k=8, seed=11)
    [returned] = generator.generate(["abc"], **options)
    pieces = []
    [streamed] = generator.generate(["abc"], stream=pieces.append, **options)
    assert "".join(pieces) == streamed["continuation"] == returned["continuation"]
    assert len(pieces) > 2 and len(returned["continuation"]) == max_new_tokens


def test_windows_slide_past_the_context(generator):
    assert segment_plan(3, 19, CONTEXT) == [(3, 5, 5), (4, 4, 4), (4, 4, 4), (4, 4, 4), (4, 4, 2)]
    [new] = generator.continue_ids([2, 5, 3], 19)
    assert len(new) == 19
    # Greedy with a sliding window: each window restarts from the last half of the text so far.
    text = [2, 5, 3] + new[:5]
    [second] = generator.continue_ids(text[-4:], 4)
    assert second == new[5:9]


def test_unseen_characters_empty_and_long_prompts(generator, caplog):
    results = generator.generate(["z☃a", "", "abc"], max_new_tokens=5, seed=1)
    assert [len(result["continuation"]) for result in results] == [5, 5, 5]
    with caplog.at_level(logging.WARNING):
        [long] = generator.generate(["abcdefghiabc"], max_new_tokens=5, greedy=True)
    assert "Prompt 1 has 12 tokens" in caplog.text and "last 7 tokens" in caplog.text
    [same] = generator.generate(["abcdefghiabc"[-7:]], max_new_tokens=5, greedy=True)  # its last 7 tokens
    assert long["continuation"] == same["continuation"]


def test_one_compiled_search_per_setting(generator):
    generator.generate(["abc"], max_new_tokens=5, seed=1)
    function = generator.compiled_search(8, {"temperature": 1.0, "top_k": None, "top_p": None})
    traces = function.experimental_get_tracing_count()
    generator.generate(["cde"], max_new_tokens=5, seed=2)  # same shapes, another seed: no new trace
    assert function.experimental_get_tracing_count() == traces
    assert ops.shape(function(tf.constant([[2, 3, 4]], tf.int32)))[1] == 8
