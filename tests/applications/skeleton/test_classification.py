"""Precision, recall, F1 and the confusion matrix agree with scikit-learn."""

import numpy as np
from sklearn.metrics import confusion_matrix as sk_confusion, f1_score, precision_recall_fscore_support

from applications.skeleton.classification import classification_report, confusion_matrix, plot_confusion_matrix


def test_report_matches_scikit_learn(tmp_path):
    rng = np.random.default_rng(0)
    labels, predictions = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    names = ["a", "b", "c", "d"]
    report = classification_report(labels, predictions, names)
    precision, recall, f1, support = precision_recall_fscore_support(labels, predictions, zero_division=0)
    for index, name in enumerate(names):
        got = report["per_class"][name]
        assert np.isclose(got["precision"], precision[index], atol=1e-4)
        assert np.isclose(got["recall"], recall[index], atol=1e-4) and got["support"] == support[index]
    assert np.isclose(report["macro_f1"], f1_score(labels, predictions, average="macro"), atol=1e-4)
    np.testing.assert_array_equal(confusion_matrix(labels, predictions, 4), sk_confusion(labels, predictions))
    path = plot_confusion_matrix(np.asarray(report["confusion_matrix"]), names, tmp_path / "m.png")
    assert open(path, "rb").read(4) == b"\x89PNG"
