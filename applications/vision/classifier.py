"""`ViTClassifier`: a `VisionTransformer` with a linear classification head."""

import keras

from applications.skeleton.serialization import deserialize_sublayers
from applications.vision.vision_transformer import VisionTransformer


@keras.saving.register_keras_serializable(package="applications.vision")
class ViTClassifier(keras.Model):
    """Image classifier: backbone features -> dropout -> dense logits.

    A functional model (keras-hub task style) whose config holds the backbone
    and the class names, so a saved `.keras` file is all `predict` needs. The
    head is zero-initialised (big_vision): a new head starts from uniform
    predictions, which keeps early fine-tuning steps from disturbing the
    backbone. Logits are float32 under mixed precision.

    Args:
        backbone: a `VisionTransformer`.
        num_classes: number of classes.
        dropout_rate: dropout on the pooled features.
        class_names: optional list of `num_classes` label strings; defaults
            to `"0"`, `"1"`, ...
        **kwargs: base `keras.Model` arguments (`name`, ...).

    Call arguments:
        images: `(batch, height, width, channels)` normalised pixels.

    Returns:
        `(batch, num_classes)` logits.

    Example:

    >>> import numpy as np
    >>> backbone = VisionTransformer(image_size=8, patch_size=4, num_layers=1, hidden_dim=8,
    ...                              num_heads=2, intermediate_dim=16, num_channels=1)
    >>> model = ViTClassifier(backbone, num_classes=3, class_names=["a", "b", "c"])
    >>> model(np.zeros((2, 8, 8, 1), "float32")).shape
    TensorShape([2, 3])
    """

    def __init__(self, backbone, num_classes, dropout_rate=0.0, class_names=None, **kwargs):
        if not isinstance(backbone, VisionTransformer):
            raise ValueError(f"`backbone` must be a VisionTransformer. Received: backbone={backbone!r}")
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"`num_classes` must be a positive int. Received: num_classes={num_classes}")
        if not 0.0 <= dropout_rate < 1.0:
            raise ValueError(f"`dropout_rate` must be in [0, 1). Received: dropout_rate={dropout_rate}")
        class_names = [str(i) for i in range(num_classes)] if class_names is None else [str(n) for n in class_names]
        if len(class_names) != num_classes:
            raise ValueError(
                "`class_names` must have `num_classes` entries. "
                f"Received: num_classes={num_classes}, len(class_names)={len(class_names)}"
            )
        # === Layers ===
        head_dropout = keras.layers.Dropout(dropout_rate, name="head_dropout")
        head = keras.layers.Dense(num_classes, kernel_initializer="zeros", dtype="float32", name="logits")
        # === Functional model ===
        images = keras.Input(shape=backbone.image_shape, name="images")
        logits = head(head_dropout(backbone(images)))
        super().__init__(inputs=images, outputs=logits, **kwargs)
        # === Config ===
        self.backbone = backbone
        self.num_classes = num_classes
        self.dropout_rate = dropout_rate
        self.class_names = class_names

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "num_classes": self.num_classes,
            "dropout_rate": self.dropout_rate,
            "class_names": list(self.class_names),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("backbone",)))
