"""The vision family's serialisable classes (registered under the package `applications.vision`).

Importing this module registers them for Keras' loader; `CLASSES` also maps the names
keras-attn 0.1 saved them under (`keras_attn>ViTClassifier`) for its run folders.
"""

from applications.vision.classifier import ViTClassifier
from applications.vision.vision_transformer import VisionTransformer

CLASSES = (ViTClassifier, VisionTransformer)
