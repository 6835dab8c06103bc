"""Public layers, each registered serializable under the package "keras_attn".

Add one import line per layer, keeping the list sorted.
"""

