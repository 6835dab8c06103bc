"""Evaluate a saved `ViTClassifier` on a folder of images (`keras-attn vision evaluate`):
accuracy, top-5 accuracy, per-class accuracy and a confusion matrix PNG."""

import json
import logging
import os

import numpy as np

from applications.vision.classifier import ViTClassifier, load_classifier
from applications.vision.data import ImageFolderError, evaluation_pipeline, load_image_folder, scan_image_folder

logger = logging.getLogger(__name__)


def confusion_matrix(labels, predictions, num_classes):
    """`(num_classes, num_classes)` counts; row = true class, column = predicted.

    Example:

    >>> confusion_matrix([0, 1, 1], [0, 0, 1], 2).tolist()
    [[1, 0], [1, 1]]
    """
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predictions)), 1)
    return matrix


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


def evaluate(model, data_dir, out_dir=None, batch_size=32, skip_corrupt=False):
    """Evaluate `model` (a `ViTClassifier` or the path of a saved one) on `data_dir`.

    The folder's classes are matched to the model's by name (a folder may hold
    a subset of them). Writes `confusion_matrix.png` and `evaluation.json` in
    `out_dir` when given.

    Returns:
        dict with `accuracy`, `top5_accuracy` (top-min(5, classes)),
        `num_examples`, `per_class_accuracy` ({class: accuracy}) and
        `confusion_matrix` (nested lists, row = true class).
    """
    if not isinstance(model, ViTClassifier):
        model = load_classifier(model)
    folder = scan_image_folder(data_dir, skip_corrupt=skip_corrupt)
    unknown = [name for name in folder.class_names if name not in model.class_names]
    if unknown:
        raise ImageFolderError(
            f"{data_dir} has class folder(s) the model does not know: {unknown}. "
            f"Model classes: {model.class_names}."
        )
    to_model = np.array([model.class_names.index(name) for name in folder.class_names])
    dataset, _ = load_image_folder(folder, model.backbone.image_size, model.backbone.num_channels)
    all_labels, all_logits = [], []
    for images, labels in evaluation_pipeline(dataset, batch_size):
        all_logits.append(np.asarray(model.predict_on_batch(images)))
        all_labels.append(to_model[labels.numpy()])
    logits, labels = np.concatenate(all_logits), np.concatenate(all_labels)
    k = min(5, model.num_classes)
    top_k = np.argsort(-logits, axis=1)[:, :k]
    predictions = top_k[:, 0]
    matrix = confusion_matrix(labels, predictions, model.num_classes)
    per_class = {
        name: float(matrix[i, i] / matrix[i].sum()) for i, name in enumerate(model.class_names) if matrix[i].sum()
    }
    results = {
        "accuracy": float(np.mean(predictions == labels)),
        "top5_accuracy": float(np.mean(np.any(top_k == labels[:, None], axis=1))),
        "num_examples": int(len(labels)),
        "per_class_accuracy": per_class,
        "confusion_matrix": matrix.tolist(),
        "class_names": list(model.class_names),
    }
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        results["confusion_matrix_png"] = plot_confusion_matrix(
            matrix, model.class_names, os.path.join(out_dir, "confusion_matrix.png"),
            title=f"{os.path.basename(os.path.normpath(data_dir))}: accuracy {results['accuracy']:.3f}",
        )
        with open(os.path.join(out_dir, "evaluation.json"), "w", encoding="utf-8") as file:
            json.dump(results, file, indent=2)
    logger.info("Accuracy %.4f, top-%d %.4f on %d images.", results["accuracy"], k, results["top5_accuracy"], len(labels))
    return results
