"""keras_attn: attention layers and Transformer blocks for Keras 3.

Layers and ops use `keras.ops` only, so they run on every Keras backend.
"""

from keras_attn import masking
from keras_attn import ops
from keras_attn import layers
from keras_attn import generation

from keras_attn.version import __version__
