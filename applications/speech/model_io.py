"""Loading a trained speech model, and preparing clips for it."""

import os
from pathlib import Path

import keras

from applications.speech import data as speech_data

MODEL_FILENAME = "model.keras"
# Sublayers a speech model's config holds as serialised Keras objects.
SUBLAYER_KEYS = ("encoder", "front_end", "spec_augment")


def deserialize_sublayers(config):
    """A speech model's config with its sublayers (`SUBLAYER_KEYS`) deserialised."""
    config = dict(config)
    for name in SUBLAYER_KEYS:
        if config.get(name) is not None:
            config[name] = keras.saving.deserialize_keras_object(config[name])
    return config


def load_speech_model(model):
    """A `SpeechClassifier` or `CTCRecognizer` from a training output folder or a `.keras` file."""
    path = Path(model)
    if path.is_dir():
        path = path / MODEL_FILENAME
    if not path.is_file():
        raise ValueError(f"No trained speech model at {os.fspath(model)!r} (expected a folder holding {MODEL_FILENAME}).")
    import applications.speech  # noqa: F401  registers the classes for deserialisation

    return keras.saving.load_model(path, safe_mode=True)


def clip_inputs(model, clips):
    """The model's inputs for a list of float32 clips: padded to its `max_samples`."""
    audio, lengths = speech_data.pad_clips(clips, model.max_samples)
    return {"audio": audio, "sample_lengths": lengths}
