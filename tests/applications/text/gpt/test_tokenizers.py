"""Tokenizers: the TensorFlow ops equal the corpus encoder, round trips, unseen characters,
assets; SentencePiece's byte fallback spells anything; GPT-2's BPE through keras-hub."""

import json

import numpy as np
import pytest
import tensorflow as tf

from applications.text.gpt.tokenizers import (
    UNK_ID, CharacterTokenizer, GPT2Tokenizer, SentencePieceTokenizer, load_tokenizer,
)

TEXTS = ["In the beginning, God created", "And God said,\n“Let there be light”", ""]
UNSEEN = "Καλημέρα ☃ ü\n\t"


def _strings(tensor):
    return [text.decode("utf-8") for text in tensor.numpy()]


def _round_trip(tokenizer, texts):
    ragged = tokenizer.tokenize(tf.constant(texts))
    for text, row in zip(texts, ragged.to_list()):
        assert row == tokenizer.encode(text).tolist()  # TF ops == the corpus encoder
    texts = _strings(tokenizer.detokenize(ragged))
    if tokenizer.kind != "gpt2":  # padding decodes to nothing (GPT-2 pads with a real token)
        assert _strings(tokenizer.detokenize(ragged.to_tensor(default_value=tokenizer.pad_id))) == texts
    return texts


def _reloaded(tokenizer):
    assets = tokenizer.assets()
    return load_tokenizer(tokenizer.kind, lambda name: assets[name])


@pytest.fixture(scope="module")
def sentencepiece(bible_text):
    return SentencePieceTokenizer.train(bible_text, vocabulary_size=400)


def test_characters_round_trip_and_unseen_characters_are_unknown(bible_text):
    tokenizer = CharacterTokenizer.train(bible_text)
    assert _round_trip(tokenizer, TEXTS) == TEXTS
    ids = tokenizer.encode("God ☃")
    assert ids[-1] == UNK_ID and (ids[:-1] > UNK_ID).all()
    assert _round_trip(tokenizer, ["God ☃"]) == ["God \ufffd"]  # decodes to the replacement character
    assert tokenizer.tokenize(tf.constant([b"God \xff"])).to_list()[0][-1] == UNK_ID  # bad UTF-8 too
    assert tokenizer.decode(tokenizer.start_ids) == "\n"
    reloaded = _reloaded(tokenizer)
    assert reloaded.characters == tokenizer.characters and reloaded.encode(UNSEEN).tolist() == tokenizer.encode(
        UNSEEN).tolist()


def test_sentencepiece_byte_fallback_round_trips_anything(sentencepiece):
    texts = TEXTS + [UNSEEN, "  two  spaces\n\nand lines  "]
    assert _round_trip(sentencepiece, texts) == texts
    assert sentencepiece.decode(sentencepiece.encode(UNSEEN)) == UNSEEN
    assert UNK_ID not in sentencepiece.encode(UNSEEN).tolist()  # bytes, never the unknown id
    reloaded = _reloaded(sentencepiece)
    assert reloaded.encode(TEXTS[1]).tolist() == sentencepiece.encode(TEXTS[1]).tolist()


def test_sentencepiece_corpus_encoding_keeps_line_breaks(sentencepiece, bible_text):
    text = bible_text[:3000]
    assert sentencepiece.decode(sentencepiece.encode(text)) == text


def test_gpt2_bpe_through_keras_hub():
    vocabulary = {"<|endoftext|>": 0, **{chr(c): i + 1 for i, c in enumerate(range(33, 127))}, "Ġ": 95, "Ġt": 96,
                  "he": 97, "Ġthe": 98}
    tokenizer = GPT2Tokenizer(vocabulary, ["Ġ t", "h e", "Ġt he"])
    assert tokenizer.vocabulary_size == 99 and tokenizer.start_ids == [0]
    assert _round_trip(tokenizer, [" the cat", "ok!"]) == [" the cat", "ok!"]
    assert tokenizer.encode(" the").tolist() == [98]
    reloaded = _reloaded(tokenizer)
    assert reloaded.encode("the the").tolist() == tokenizer.encode("the the").tolist()
    assert json.loads(tokenizer.assets()["vocabulary.json"])["Ġthe"] == 98
    np.testing.assert_array_equal(reloaded.encode(""), [])
