"""Vision Transformers on folders of images: train, fine-tune, evaluate,
predict and explain (`keras-attn vision ...`), built from `keras_attn`."""

from applications.vision import sizes
from applications.vision.classifier import ViTClassifier
from applications.vision.classifier import load_backbone
from applications.vision.classifier import load_classifier
from applications.vision.keras_hub_conversion import from_keras_hub
from applications.vision.vision_transformer import VisionTransformer
