import pytest

from applications.speech.error_rates import character_error_rate, edit_distance, word_error_rate


def test_edit_distance():
    assert edit_distance("", "abc") == 3
    assert edit_distance("abc", "abc") == 0
    assert edit_distance(["a", "b"], ["b"]) == 1


def test_corpus_rates():
    references = ["one two", "three"]
    assert word_error_rate(references, ["one too", "three"]) == pytest.approx(1 / 3)
    assert character_error_rate(references, ["one two", ""]) == pytest.approx(5 / 12)


def test_length_mismatch():
    with pytest.raises(ValueError, match="same length"):
        word_error_rate(["a"], [])
