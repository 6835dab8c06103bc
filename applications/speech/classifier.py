"""`SpeechClassifier`: keyword / command recognition from audio."""

import keras

from applications.speech.audio_inputs import default_front_end, encode_audio
from applications.speech.masked_mean_pooling import MaskedMeanPooling
from applications.speech.sublayers import deserialize_sublayers


@keras.saving.register_keras_serializable(package="applications.speech")
class SpeechClassifier(keras.Model):
    """Audio clip -> class probabilities: log-mel, `SpeechEncoder`, masked mean, softmax.

    A functional model (built in `__init__`, like keras-hub's tasks) whose
    inputs are `{"audio": (batch, max_samples) float32, "sample_lengths":
    (batch,) int32}`: clips zero-padded to a fixed length, with their true
    lengths, so that every batch has one static shape (XLA) and padding never
    influences the result. The output is `(batch, num_classes)` float32
    probabilities.

    Args:
        encoder: a `SpeechEncoder` (e.g. from `from_keras_hub_whisper`).
        num_classes: number of classes.
        max_samples: the padded clip length in samples (at 16 kHz).
        class_names: optional list of `num_classes` names, kept in the config.
        front_end: a `LogMelSpectrogram`; Whisper's by default.
        spec_augment: an optional `SpecAugment`, active in training only.
        feature_normalization: an optional `UtteranceNormalization` of the
            log-mels over each clip's real frames (before SpecAugment).
        dropout_rate: dropout before the output layer.
        **kwargs: `keras.Model` arguments (`name`, ...).

    Example:

    >>> import numpy as np
    >>> from applications.speech import SpeechEncoder
    >>> encoder = SpeechEncoder(8, 1, 2, 16, num_mel_bins=8, max_frames=11)
    >>> model = SpeechClassifier(encoder, num_classes=3, max_samples=1600)
    >>> probabilities = model({"audio": np.zeros((2, 1600), "float32"),
    ...                        "sample_lengths": np.array([1600, 800])})
    >>> probabilities.shape
    TensorShape([2, 3])
    """

    def __init__(
        self,
        encoder,
        num_classes,
        max_samples=16000,
        class_names=None,
        front_end=None,
        spec_augment=None,
        dropout_rate=0.0,
        feature_normalization=None,
        **kwargs,
    ):
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"`num_classes` must be an int >= 2. Received: num_classes={num_classes!r}")
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(
                "`class_names` must hold `num_classes` names. Received: "
                f"num_classes={num_classes}, class_names={class_names}"
            )
        front_end = front_end if front_end is not None else default_front_end(encoder)
        pooling = MaskedMeanPooling(name="pooling")
        dropout = keras.layers.Dropout(dropout_rate, name="head_dropout")
        # float32 probabilities under mixed precision.
        output_dense = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="classifier")

        inputs, steps, step_mask = encode_audio(encoder, front_end, spec_augment, max_samples,
                                                   feature_normalization)
        pooled = pooling(steps, padding_mask=step_mask)  # (B, C)
        probabilities = output_dense(dropout(pooled))  # (B, num_classes)
        super().__init__(inputs=inputs, outputs=probabilities, **kwargs)

        self.encoder = encoder
        self.num_classes = num_classes
        self.max_samples = max_samples
        self.class_names = None if class_names is None else [str(name) for name in class_names]
        self.front_end = front_end
        self.spec_augment = spec_augment
        self.dropout_rate = dropout_rate
        self.feature_normalization = feature_normalization

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "num_classes": self.num_classes,
            "max_samples": self.max_samples,
            "class_names": self.class_names,
            "front_end": keras.saving.serialize_keras_object(self.front_end),
            "spec_augment": keras.saving.serialize_keras_object(self.spec_augment),
            "dropout_rate": self.dropout_rate,
            "feature_normalization": keras.saving.serialize_keras_object(self.feature_normalization),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config))
