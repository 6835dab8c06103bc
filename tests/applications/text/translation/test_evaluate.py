"""BLEU (sacrebleu) and exact match."""

import pytest

from applications.text.translation.evaluate import score_translations


def test_perfect_and_partial_scores():
    perfect = score_translations(["le chat dort .", "un chien"], ["le chat dort .", "un chien"])
    assert perfect["bleu"] == pytest.approx(100.0) and perfect["exact_match"] == 1.0
    partial = score_translations(["le chat dort .", "un oiseau"], ["le chat dort .", "un chien"])
    assert 0 < partial["bleu"] < 100 and partial["exact_match"] == 0.5 and partial["num_pairs"] == 2


def test_errors():
    with pytest.raises(ValueError, match="no pairs"):
        score_translations([], [])
    with pytest.raises(ValueError, match="1 hypotheses for 2"):
        score_translations(["a"], ["a", "b"])
