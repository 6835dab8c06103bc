"""`deserialize_sublayers`: the shared `from_config` step of the applications' models that hold
other Keras objects (an encoder, a backbone, a front end) in their config.

Example:

>>> import keras
>>> config = {"encoder": keras.saving.serialize_keras_object(keras.layers.Dense(2)), "num_classes": 3}
>>> restored = deserialize_sublayers(config, ("encoder", "front_end"))
>>> type(restored["encoder"]).__name__, restored["num_classes"], "front_end" in restored
('Dense', 3, False)
"""

import keras


def deserialize_sublayers(config, keys):
    """A copy of `config` with the serialised Keras objects under `keys` deserialised (keys that
    are missing, `None` or already objects are left as they are)."""
    config = dict(config)
    for name in keys:
        if isinstance(config.get(name), dict):
            config[name] = keras.saving.deserialize_keras_object(config[name])
    return config
