import numpy as np
import pytest
import tensorflow as tf

from applications.text.bert.tokenizers import (
    RESERVED_TOKENS, SentencePieceBertTokenizer, WordPieceTokenizer, load_tokenizer, train_tokenizer,
)

TEXTS = ["In the beginning God created the heavens and the earth",
         "The earth was formless and empty", "God saw the light and saw that it was good"] * 30


@pytest.fixture(scope="module")
def wordpiece():
    return WordPieceTokenizer.train(TEXTS, vocabulary_size=80)


def test_wordpiece_round_trip_and_special_ids(wordpiece):
    assert wordpiece.vocabulary[:5] == list(RESERVED_TOKENS)
    assert (wordpiece.pad_id, wordpiece.unk_id, wordpiece.cls_id, wordpiece.sep_id, wordpiece.mask_id) == (0, 1, 2, 3, 4)
    assert wordpiece.random_range == (5, wordpiece.vocabulary_size)
    texts = ["God created the earth", "the light was good"]
    ids = wordpiece.tokenize(texts)
    assert ids.dtype == tf.int32 and int(tf.reduce_min(ids.flat_values)) >= 5  # no special id from text
    assert [t.decode() for t in wordpiece.detokenize(ids).numpy()] == [t.lower() for t in texts]
    # Lower-cased, unknown words become [UNK], special ids are dropped by detokenize.
    unknown = wordpiece.tokenize(["GOD xyzzy"]).numpy()[0].tolist()
    assert unknown[0] == wordpiece.tokenize(["god"]).numpy()[0][0] and wordpiece.unk_id in unknown
    padded = np.array([[2, *wordpiece.tokenize(["god"]).numpy()[0], 3, 0, 0]])
    assert wordpiece.detokenize(padded).numpy()[0].decode() == "god"


def test_wordpiece_runs_in_tf_data(wordpiece):
    dataset = tf.data.Dataset.from_tensor_slices(["God saw the light"] * 4).batch(2).map(wordpiece.tokenize)
    batches = [batch.to_list() for batch in dataset]
    assert batches[0] == wordpiece.tokenize(["God saw the light"] * 2).to_list()


def test_asset_round_trip(tmp_path, wordpiece):
    name, content = wordpiece.asset()
    (tmp_path / name).write_bytes(content)
    loaded = load_tokenizer(lambda file: str(tmp_path / file), wordpiece.preprocessing())
    assert loaded.vocabulary == wordpiece.vocabulary
    assert loaded.tokenize(["the earth"]).to_list() == wordpiece.tokenize(["the earth"]).to_list()


def test_special_ids_of_a_bert_preset_vocabulary():
    vocabulary = ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]", "god", "##s"]
    tokenizer = WordPieceTokenizer(vocabulary)
    assert (tokenizer.unk_id, tokenizer.cls_id, tokenizer.sep_id, tokenizer.mask_id) == (100, 101, 102, 103)
    assert tokenizer.random_range == (104, 106)
    assert tokenizer.tokenize(["gods"]).to_list() == [[104, 105]]


def test_vocabulary_without_special_tokens_is_refused():
    with pytest.raises(ValueError, match=r"\[MASK\]"):
        WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "god"])


def test_sentencepiece_round_trip(tmp_path):
    tokenizer = train_tokenizer(TEXTS, "sentencepiece", vocabulary_size=60)
    assert isinstance(tokenizer, SentencePieceBertTokenizer)
    assert tokenizer.mask_id == tokenizer.vocabulary_size - 1 and tokenizer.random_range == (4, tokenizer.mask_id)
    ids = tokenizer.tokenize(["God saw the light"])
    assert tokenizer.detokenize(ids).numpy()[0].decode() == "God saw the light"
    name, content = tokenizer.asset()
    (tmp_path / name).write_bytes(content)
    loaded = load_tokenizer(lambda file: str(tmp_path / file), tokenizer.preprocessing())
    assert loaded.tokenize(["the earth"]).to_list() == tokenizer.tokenize(["the earth"]).to_list()
