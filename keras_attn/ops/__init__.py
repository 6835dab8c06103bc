"""Attention ops (functions on tensors, no weights)."""

from keras_attn.ops.scaled_dot_product_attention import scaled_dot_product_attention
