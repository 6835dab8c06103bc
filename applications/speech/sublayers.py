"""`deserialize_sublayers`: the shared `from_config` step of the speech models."""

import keras

# Sublayers a speech model's config holds as serialised Keras objects.
SUBLAYER_KEYS = ("encoder", "front_end", "spec_augment", "feature_normalization")


def deserialize_sublayers(config):
    """A speech model's config with its sublayers (`SUBLAYER_KEYS`) deserialised."""
    config = dict(config)
    for name in SUBLAYER_KEYS:
        if config.get(name) is not None and isinstance(config[name], dict):
            config[name] = keras.saving.deserialize_keras_object(config[name])
    return config
