"""`deserialize_sublayers`: the shared `from_config` step of the speech models."""

from applications.skeleton import serialization

# Sublayers a speech model's config holds as serialised Keras objects.
SUBLAYER_KEYS = ("encoder", "front_end", "spec_augment", "feature_normalization")


def deserialize_sublayers(config):
    """A speech model's config with its sublayers (`SUBLAYER_KEYS`) deserialised."""
    return serialization.deserialize_sublayers(config, SUBLAYER_KEYS)
