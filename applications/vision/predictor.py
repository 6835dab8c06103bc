"""`ImageClassifierPredictor`: a trained ViT run folder -> labels, scores, heatmaps, SavedModel.

    predictor = applications.load("runs/vit")
    predictor.predict(["photo.png"], top_k=3)       # [{"input", "label", "probability", "top_k"}]
    predictor.evaluate("test_images/")              # accuracy, top5_accuracy, per class, confusion matrix
    predictor.explain("photo.png", "heat.png")      # attention rollout
    predictor.export()                              # RUN/saved_model: image bytes in, labels out

Images are decoded and resized exactly as in training (`applications.vision.data`).
"""

import json
import logging
import os

import numpy as np

from applications.skeleton.classification import softmax
from applications.skeleton.predictor import Predictor
from applications.vision.task import TASK_NAME

logger = logging.getLogger(__name__)


class ImageClassifierPredictor(Predictor):
    """Predictor of an `image-classification` run (see the module doc)."""

    task = TASK_NAME
    model_classes = ("applications.vision>ViTClassifier", "keras_attn>ViTClassifier")

    @classmethod
    def from_model(cls, model):
        """A predictor of a bare `ViTClassifier` (it holds its class names and image size)."""
        return cls(model)

    @property
    def backbone(self):
        return self.model.backbone

    @property
    def class_names(self):
        return list(self.model.class_names)

    def predict(self, images, top_k=5, batch_size=32, skip_bad_files=False):
        """Top-k labels of image files: one dict per readable file (`input`, `label`,
        `probability`, `top_k`: `[{"label", "probability"}]`)."""
        from applications.vision.data import load_images

        pixels, kept = load_images([os.fspath(path) for path in images], self.backbone.image_size,
                                   self.backbone.num_channels, skip_bad_files=skip_bad_files)
        probabilities = softmax(self.model.predict(pixels, batch_size=batch_size, verbose=0))
        k = max(1, min(top_k, self.model.num_classes))
        results = []
        for path, row in zip(kept, probabilities):
            best = np.argsort(-row)[:k]
            ranked = [{"label": self.class_names[i], "probability": float(row[i])} for i in best]
            results.append({"input": path, "label": ranked[0]["label"], "probability": ranked[0]["probability"],
                            "top_k": ranked})
        return results

    def evaluate(self, data, batch_size=32, skip_bad_files=False, out_dir=None):
        """Accuracy, top-5 accuracy, per-class accuracy and the confusion matrix on a folder of
        class subfolders (a subset of the model's classes is fine); writes
        `confusion_matrix.png` and `evaluation.json` in `out_dir` (default: the run folder)."""
        from applications.vision.data import ImageFolderError, evaluation_pipeline, image_dataset, scan_image_folder
        from applications.skeleton.classification import confusion_matrix, plot_confusion_matrix

        folder = scan_image_folder(data, skip_bad_files=skip_bad_files)
        unknown = [name for name in folder.class_names if name not in self.class_names]
        if unknown:
            raise ImageFolderError(
                f"{data} has class folder(s) the model does not know: {unknown}. Model classes: {self.class_names}."
            )
        to_model = np.array([self.class_names.index(name) for name in folder.class_names])
        dataset = image_dataset(folder.paths, folder.labels, self.backbone.image_size, self.backbone.num_channels)
        all_labels, all_logits = [], []
        for images, labels in evaluation_pipeline(dataset, batch_size):
            all_logits.append(np.asarray(self.model.predict_on_batch(images)))
            all_labels.append(to_model[labels.numpy()])
        logits, labels = np.concatenate(all_logits), np.concatenate(all_labels)
        k = min(5, self.model.num_classes)
        ranked = np.argsort(-logits, axis=1)[:, :k]
        predictions = ranked[:, 0]
        matrix = confusion_matrix(labels, predictions, self.model.num_classes)
        per_class = {name: float(matrix[i, i] / matrix[i].sum())
                     for i, name in enumerate(self.class_names) if matrix[i].sum()}
        results = {
            "accuracy": float(np.mean(predictions == labels)),
            "top5_accuracy": float(np.mean(np.any(ranked == labels[:, None], axis=1))),
            "num_examples": int(len(labels)),
            "per_class_accuracy": per_class,
            "confusion_matrix": matrix.tolist(),
            "class_names": self.class_names,
        }
        out_dir = out_dir or (self.folder.path if self.folder is not None else None)
        if out_dir is not None:
            os.makedirs(out_dir, exist_ok=True)
            title = f"{os.path.basename(os.path.normpath(os.fspath(data)))}: accuracy {results['accuracy']:.3f}"
            results["confusion_matrix_png"] = plot_confusion_matrix(
                matrix, self.class_names, os.path.join(out_dir, "confusion_matrix.png"), title=title)
            with open(os.path.join(out_dir, "evaluation.json"), "w", encoding="utf-8") as file:
                json.dump(results, file, indent=2)
        logger.info("Accuracy %.4f, top-%d %.4f on %d images.", results["accuracy"], k, results["top5_accuracy"],
                    len(labels))
        return results

    def explain(self, image, out_path=None, head_fusion="mean"):
        """Predict one image and save its attention-rollout heatmap (see `explain.py`)."""
        from applications.vision.explain import explain

        return explain(self.model, image, out_path, head_fusion=head_fusion)

    def serving_module(self):
        from applications.vision.export import serving_module

        return serving_module(self.model)
