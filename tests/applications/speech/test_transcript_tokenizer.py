import pytest

from applications.speech.character_vocabulary import OutOfVocabularyError
from applications.speech.transcript_tokenizer import (
    END_ID, START_ID, TRANSCRIBE_ID, CharacterTokenizer, SentencePieceTokenizer, load_tokenizer,
)


def test_characters_round_trip_after_the_prompt():
    tokenizer = CharacterTokenizer("abcdefghijklmnopqrstuvwxyz ")
    ids = tokenizer.encode("Twenty  One")
    assert tokenizer.prompt_ids == (START_ID, TRANSCRIBE_ID) and min(ids) >= 4
    assert tokenizer.decode([*tokenizer.prompt_ids, *ids, END_ID, 9, 9]) == "twenty one"  # stops at the end token
    assert tokenizer.vocabulary_size == 4 + 27
    assert load_tokenizer("characters", tokenizer.to_bytes()).encode("twenty one") == ids


def test_characters_outside_the_vocabulary_raise_or_are_dropped():
    with pytest.raises(OutOfVocabularyError, match=r"\['1', '9'\]"):
        CharacterTokenizer("abc ").encode("cab 91")
    assert CharacterTokenizer("abc ", unknown="drop").normalize("cab 91 a") == "cab a"


def test_sentencepiece_round_trip_and_unknown_characters_are_mapped():
    texts = ["four hundred and seventy three", "twenty one", "nine hundred and nine", "sixty six"] * 10
    tokenizer = SentencePieceTokenizer.train(texts, vocabulary_size=40)
    ids = tokenizer.encode("Four hundred and twenty one")
    assert tokenizer.prompt_ids == (2, tokenizer.transcribe_id) and tokenizer.vocabulary_size == tokenizer.transcribe_id + 1
    assert tokenizer.decode([*tokenizer.prompt_ids, *ids, tokenizer.end_id, 0]) == "four hundred and twenty one"
    # A character never seen in training is the unknown piece, which decodes to nothing.
    assert 1 in tokenizer.encode("zq")
    assert "zq" not in tokenizer.decode(tokenizer.encode("twenty zq one"))
    clone = load_tokenizer("sentencepiece", tokenizer.to_bytes())
    assert clone.encode("sixty six") == tokenizer.encode("sixty six")
