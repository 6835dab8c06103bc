import pytest

from applications.speech.character_vocabulary import CharacterVocabulary, OutOfVocabularyError


def test_round_trip_and_normalisation():
    vocabulary = CharacterVocabulary()
    ids = vocabulary.encode("  Forty\tTwo ")
    assert min(ids) >= 1 and vocabulary.size == 29
    assert vocabulary.decode(ids) == "forty two"
    assert vocabulary.decode([0, -1] + ids) == "forty two"


def test_out_of_vocabulary_characters_are_named():
    with pytest.raises(OutOfVocabularyError, match=r"\['4', '@'\]"):
        CharacterVocabulary().encode("call me @ 4")


def test_drop_unknown_characters():
    assert CharacterVocabulary(unknown="drop").normalize("call me @ 4 now") == "call me now"


@pytest.mark.parametrize("kwargs", [{"characters": "aab"}, {"characters": ""}, {"unknown": "map"}])
def test_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        CharacterVocabulary(**kwargs)
