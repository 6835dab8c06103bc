"""The version of keras-attn (read by setup.py and `keras-attn --version`)."""

__version__ = "0.2.0"
