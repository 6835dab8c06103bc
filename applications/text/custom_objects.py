"""The text family's serialisable classes (registered under the package `applications.text`).

Importing this module registers them for Keras' loader. The Transformer and T5 translators
are made of keras_attn's and Keras' own layers; the RNN translator adds its decoder.
"""

from applications.text.translation.bahdanau_decoder import BahdanauDecoder

CLASSES = (BahdanauDecoder,)
