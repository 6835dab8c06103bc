"""Top-k labels of image files from a saved `ViTClassifier` (`keras-attn vision predict`)."""

import os

import numpy as np

from applications.vision.classifier import ViTClassifier, load_classifier
from applications.vision.data import load_images


def softmax(logits):
    """Row-wise softmax in float64.

    Example:

    >>> softmax(np.array([[0.0, 0.0]])).tolist()
    [[0.5, 0.5]]
    """
    logits = np.asarray(logits, np.float64)
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def predict(model, paths, top_k=5, batch_size=32):
    """Classify image files.

    Args:
        model: a `ViTClassifier` or the path of a saved one.
        paths: image files (any size; resized to the model's).
        top_k: how many labels to list per image.

    Returns:
        One dict per input: `input` (the path), `label` and `probability` of
        the best class, and `top_k`: `[{"label", "probability"}, ...]`.

    Raises:
        CorruptImageError: naming every file that cannot be read.
    """
    if not isinstance(model, ViTClassifier):
        model = load_classifier(model)
    paths = [os.fspath(path) for path in paths]
    images = load_images(paths, model.backbone.image_size, model.backbone.num_channels)
    probabilities = softmax(model.predict(images, batch_size=batch_size, verbose=0))
    k = max(1, min(top_k, model.num_classes))
    results = []
    for path, row in zip(paths, probabilities):
        best = np.argsort(-row)[:k]
        ranked = [{"label": model.class_names[i], "probability": float(row[i])} for i in best]
        results.append({"input": path, "label": ranked[0]["label"], "probability": ranked[0]["probability"], "top_k": ranked})
    return results
