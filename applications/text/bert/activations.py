"""`gelu_approximate`: BERT's GELU (the tanh approximation), a registered activation.

Keras' `"gelu"` string is the exact (erf) GELU; BERT and keras-hub's `BertBackbone` use the tanh
approximation, so the encoder names this function to compute the same numbers (the two differ
by up to ~1e-3). Registered under `applications.text.bert`, so a saved model refers to it by
name and loads under `safe_mode=True`.

Example:

>>> import numpy as np
>>> round(float(gelu_approximate(np.float32(1.0))), 4)
0.8412
"""

import keras

ACTIVATIONS = ("gelu_approximate", "gelu", "relu")


@keras.saving.register_keras_serializable(package="applications.text.bert")
def gelu_approximate(x):
    """`0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))`."""
    return keras.activations.gelu(x, approximate=True)


def get_activation(name):
    """The activation function of a name in `ACTIVATIONS`."""
    if name not in ACTIVATIONS:
        raise ValueError(f"`activation` must be one of {ACTIVATIONS}. Received: activation={name!r}")
    return gelu_approximate if name == "gelu_approximate" else keras.activations.get(name)
