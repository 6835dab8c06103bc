"""Vision Transformers on folders of images (`keras-attn vision ...`), built from `keras_attn`.

    from applications import vision
    vision.train(data="images/", out="runs/vit")          # the shortest command's model
    predictor = applications.load("runs/vit")             # an ImageClassifierPredictor

The family's parts: `data` (folders -> tf.data), `vision_transformer` and `classifier` (the
model), `task` (the recipe and its proven defaults), `predictor` (predict, evaluate, explain,
export) and `commands` (the command line). Importing this package imports no TensorFlow;
the names below load on first use.
"""

import importlib

_EXPORTS = {
    "ViTClassifier": "applications.vision.classifier",
    "VisionTransformer": "applications.vision.vision_transformer",
    "from_keras_hub": "applications.vision.keras_hub_conversion",
    "ImageClassificationTask": "applications.vision.task",
    "ImageClassifierPredictor": "applications.vision.predictor",
    "init_backbone": "applications.vision.task",
    "sizes": None,
}


def train(**settings):
    """Train an image classifier: `vision.train(data=..., out=..., epochs=...)`; the keywords
    are the flags of `keras-attn vision train` (underscores for dashes). Returns the summary."""
    from applications.skeleton.settings import resolve_settings
    from applications.skeleton.training import train as train_task
    from applications.vision.task import ImageClassificationTask

    task = ImageClassificationTask()
    return train_task(task, resolve_settings(task, **settings), command_line=["applications.vision.train"])


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'applications.vision' has no attribute {name!r}")
    module = _EXPORTS[name] or f"applications.vision.{name}"
    value = importlib.import_module(module)
    return value if _EXPORTS[name] is None else getattr(value, name)
