"""Domain packages built only from `keras_attn`: text, vision, speech."""
