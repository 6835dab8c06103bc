"""Public layers, each registered serializable under the package "keras_attn".

Add one import line per layer, keeping the list sorted.
"""

from keras_attn.layers.additive_attention import AdditiveAttention
from keras_attn.layers.feed_forward import FeedForward
from keras_attn.layers.log_mel_spectrogram import LogMelSpectrogram
from keras_attn.layers.multi_head_attention import MultiHeadAttention
from keras_attn.layers.position_embedding import PositionEmbedding
from keras_attn.layers.relative_position_bias import RelativePositionBias
from keras_attn.layers.rotary_embedding import RotaryEmbedding
from keras_attn.layers.scaled_dot_product_attention import ScaledDotProductAttention
from keras_attn.layers.sinusoidal_position_encoding import SinusoidalPositionEncoding
from keras_attn.layers.spec_augment import SpecAugment
from keras_attn.layers.stochastic_depth import StochasticDepth
from keras_attn.layers.token_and_position_embedding import TokenAndPositionEmbedding
from keras_attn.layers.transformer_encoder_block import TransformerEncoderBlock
from keras_attn.layers.transformer_decoder_block import TransformerDecoderBlock
from keras_attn.layers.transformer_encoder import TransformerEncoder
from keras_attn.layers.transformer_decoder import TransformerDecoder
