"""Classification results shared by every classifier (images, keywords, text): label checks,
the confusion matrix, per-class precision and recall, macro F1, the confusion-matrix PNG, and
the row-wise softmax the predictors turn logits into probabilities with.

Example:

>>> report = classification_report([0, 1, 1, 2], [0, 1, 0, 2], ["a", "b", "c"])
>>> report["accuracy"], round(report["macro_f1"], 4), report["per_class"]["b"]
(0.75, 0.7778, {'precision': 1.0, 'recall': 0.5, 'f1': 0.6667, 'support': 2})
>>> check_known_labels(["a", "d"], ["a", "b"], "test.tsv")
Traceback (most recent call last):
...
applications.skeleton.errors.UserError: test.tsv has label(s) the model was not trained on: d. Model labels: a, b.
"""

import numpy as np

from applications.skeleton.errors import UserError


def softmax(logits):
    """Row-wise softmax in float64.

    >>> softmax(np.array([[0.0, 0.0]])).tolist()
    [[0.5, 0.5]]
    """
    logits = np.asarray(logits, np.float64)
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def check_known_labels(found, known, source):
    """Raise `UserError` naming the labels of `source` that are not among `known`."""
    unknown = sorted(set(found) - set(known))
    if unknown:
        raise UserError(
            f"{source} has label(s) the model was not trained on: {', '.join(map(str, unknown))}. "
            f"Model labels: {', '.join(map(str, known))}."
        )


def confusion_matrix(labels, predictions, num_classes):
    """`(num_classes, num_classes)` counts; row = true class, column = predicted.

    >>> confusion_matrix([0, 1, 1], [0, 0, 1], 2).tolist()
    [[1, 0], [1, 1]]
    """
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, np.int64), np.asarray(predictions, np.int64)), 1)
    return matrix


def classification_report(labels, predictions, class_names):
    """`accuracy`, `macro_f1` (over the classes present in `labels` or `predictions`),
    `per_class` (precision, recall, f1, support) and `confusion_matrix`."""
    matrix = confusion_matrix(labels, predictions, len(class_names))
    true_positive = np.diag(matrix).astype(np.float64)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    per_class, f1s = {}, []
    for index, name in enumerate(class_names):
        if not predicted[index] and not actual[index]:
            continue
        precision = true_positive[index] / predicted[index] if predicted[index] else 0.0
        recall = true_positive[index] / actual[index] if actual[index] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        per_class[name] = {"precision": round(float(precision), 4), "recall": round(float(recall), 4),
                           "f1": round(float(f1), 4), "support": int(actual[index])}
    return {
        "accuracy": float(true_positive.sum() / max(1, matrix.sum())),
        "macro_f1": float(np.mean(f1s)) if f1s else 0.0,
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),
    }


def plot_confusion_matrix(matrix, class_names, path, title="Confusion matrix"):
    """Save `matrix` as a PNG heatmap with row-normalised colours and counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    num_classes = len(class_names)
    rates = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = max(4.0, 0.5 * num_classes + 2.0)
    figure, axes = plt.subplots(figsize=(size + 1.0, size))
    image = axes.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="fraction of the true class")
    axes.set_xticks(range(num_classes), class_names, rotation=60, ha="right")
    axes.set_yticks(range(num_classes), class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    if num_classes <= 30:
        for row in range(num_classes):
            for col in range(num_classes):
                axes.text(col, row, int(matrix[row, col]), ha="center", va="center", fontsize=7,
                          color="white" if rates[row, col] > 0.5 else "black")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
