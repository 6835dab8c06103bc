"""Make this package's log messages visible when nobody configured logging."""

import logging
import sys


def ensure_visible_logging():
    """Send `keras_attn` INFO messages to stderr unless logging is configured.

    Only acts when neither the root logger nor the `keras_attn` logger has a
    handler (a plain script or CLI); an application that configures logging
    keeps full control.
    """
    package_logger = logging.getLogger("keras_attn")
    if package_logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[keras_attn] %(levelname)s: %(message)s"))
    package_logger.addHandler(handler)
    package_logger.setLevel(logging.INFO)
    package_logger.propagate = False
