import numpy as np
import pytest
import tensorflow as tf
from layer_checks import run_layer_checks

from applications.speech.ctc import CTCHead, CTCLoss, ctc_beam_decode, ctc_greedy_decode


def _log_probs(rows):
    return np.log(np.asarray(rows, "float32"))


def test_head_layer_checks():
    sequence = np.random.default_rng(0).standard_normal((2, 4, 6)).astype("float32")
    run_layer_checks(CTCHead, {"num_classes": 5}, {"sequence": sequence}, expected_output_shape=(2, 4, 5))


def test_head_makes_padded_steps_certain_blanks():
    head = CTCHead(num_classes=4)
    out = np.asarray(head(np.ones((1, 3, 2), "float32"), padding_mask=np.array([[True, True, False]])))
    np.testing.assert_allclose(np.exp(out[0, :2]).sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(out[0, 2], [0.0, -1e4, -1e4, -1e4])


def test_greedy_decoding_hand_made():
    # Classes: blank, a, b. Best path "a a _ b b a" -> "aba"; "b _ b" -> "bb".
    probabilities = np.full((2, 6, 3), 0.1, "float32")
    for row, path in enumerate([[1, 1, 0, 2, 2, 1], [2, 0, 2, 0, 0, 0]]):
        probabilities[row, np.arange(6), path] = 0.8
    assert ctc_greedy_decode(np.log(probabilities)) == [[1, 2, 1], [2, 2]]


def test_beam_search_sums_alignments_where_greedy_cannot():
    # Two steps, P(blank) = 0.6, P(a) = 0.4 at each: the best path is "_ _" (0.36),
    # but "a" has probability 0.4 * 0.4 + 0.4 * 0.6 + 0.6 * 0.4 = 0.64.
    log_probs = _log_probs([[[0.6, 0.4], [0.6, 0.4]]])
    assert ctc_greedy_decode(log_probs) == [[]]
    assert ctc_beam_decode(log_probs, beam_width=4) == [[1]]
    with pytest.raises(ValueError, match="beam_width=0"):
        ctc_beam_decode(log_probs, beam_width=0)


def test_loss_hand_made():
    # Uniform over 3 classes, 4 steps, label "a": 10 alignments of probability 3**-4.
    log_probs = np.log(np.full((1, 4, 3), 1 / 3, "float32"))
    np.testing.assert_allclose(float(CTCLoss()(np.array([[1, 0, 0]]), log_probs)), -np.log(10 / 81), rtol=1e-5)


def test_loss_over_padded_steps_equals_loss_over_true_steps():
    rng = np.random.default_rng(0)
    head = CTCHead(num_classes=5)
    sequence = rng.standard_normal((2, 7, 4)).astype("float32")
    steps = np.array([7, 4])
    padded = np.asarray(head(sequence, padding_mask=np.arange(7)[None] < steps[:, None]))
    labels = np.array([[1, 2, 3], [4, 4, 0]])
    ours = np.asarray(CTCLoss(reduction=None)(labels, padded))
    reference = tf.nn.ctc_loss(
        labels=labels, logits=np.asarray(head(sequence)), label_length=np.array([3, 2]), logit_length=steps,
        logits_time_major=False, blank_index=0,
    )
    np.testing.assert_allclose(ours, np.asarray(reference), rtol=1e-4)
