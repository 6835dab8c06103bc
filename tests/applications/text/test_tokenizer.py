"""SentencePiece tokenizer: clean round trips (accents, punctuation, spacing)."""

import pytest

from applications import datasets
from applications.text.translation.data import read_pairs
from applications.text.tokenizer import END_ID, PAD_ID, START_ID, SubwordTokenizer


@pytest.fixture(scope="module")
def bible_tokenizer():
    pairs = read_pairs(datasets.bible_en_es_paths()["test"])
    return SubwordTokenizer.train([s for pair in pairs for s in pair], vocabulary_size=500), pairs


def test_round_trip_is_exact(bible_tokenizer):
    tokenizer, pairs = bible_tokenizer
    texts = [s for pair in pairs[:50] for s in pair] + [
        "¿Dónde está el niño? ¡Aquí!",
        "He said, “Let there be light,” and there was light.",
        "Y fué la tarde y la mañana el día quinto.",
    ]
    decoded = [t.decode("utf-8") for t in tokenizer.detokenize(tokenizer.tokenize(texts)).numpy()]
    assert decoded == texts
    assert not any("##" in text or "\u2581" in text for text in decoded)


def test_dense_ids_with_start_end_and_padding(bible_tokenizer):
    tokenizer, _ = bible_tokenizer
    ids = tokenizer.tokenize(["Jehová dijo: Sí."]).to_tensor().numpy()[0].tolist()
    dense = [[START_ID] + ids + [END_ID] + ids + [PAD_ID, PAD_ID]]  # everything after the end id goes
    assert tokenizer.detokenize(dense).numpy()[0].decode("utf-8") == "Jehová dijo: Sí."


def test_save_and_load(bible_tokenizer, tmp_path):
    tokenizer, _ = bible_tokenizer
    tokenizer.save(tmp_path / "tokenizer.model")
    loaded = SubwordTokenizer.load(tmp_path / "tokenizer.model")
    assert loaded.vocabulary_size == tokenizer.vocabulary_size
    assert loaded.tokenize(["árbol"]).to_list() == tokenizer.tokenize(["árbol"]).to_list()


def test_errors():
    with pytest.raises(ValueError, match="vocabulary_size"):
        SubwordTokenizer.train(["a"], vocabulary_size=2)
    with pytest.raises(ValueError, match="no text"):
        SubwordTokenizer.train([""], vocabulary_size=100)


def test_survives_set_random_seed(bible_tokenizer):
    # tf.random.set_seed clears TF's eager kernel cache, which owns TF Text's SentencePiece resource.
    import keras

    tokenizer, _ = bible_tokenizer
    before = tokenizer.tokenize(["Jehová"]).to_list()
    keras.utils.set_random_seed(0)
    assert tokenizer.tokenize(["Jehová"]).to_list() == before
    assert tokenizer.detokenize(tokenizer.tokenize(["Jehová"])).numpy()[0].decode() == "Jehová"
