"""Attention ops (functions on tensors, no weights)."""

from keras_attn.ops.bucketed_bias import BucketedBias
from keras_attn.ops.scaled_dot_product_attention import scaled_dot_product_attention
