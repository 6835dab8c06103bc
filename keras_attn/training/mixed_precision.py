"""The `--mixed-precision` flag: Keras' global dtype policy, set once by a CLI.

`apply_mixed_precision("float16")` sets the `mixed_float16` policy: layers
compute in float16 and keep float32 variables, and `model.compile` wraps the
optimizer in a `LossScaleOptimizer` (dynamic loss scaling). `"bfloat16"` sets
`mixed_bfloat16`, which needs no loss scaling. `None` (or `"float32"`) restores
full float32. Models built afterwards pick the policy up; build the output layer
with `dtype="float32"` so logits are float32, and the losses of
`keras_attn.training` compute in float32 whatever they receive.

Example:

>>> apply_mixed_precision("bfloat16")
'mixed_bfloat16'
>>> apply_mixed_precision(None)
'float32'
"""

import logging

import keras

from keras_attn.training._logging import ensure_visible_logging

logger = logging.getLogger(__name__)

_POLICIES = {
    None: "float32",
    "none": "float32",
    "float32": "float32",
    "float16": "mixed_float16",
    "mixed_float16": "mixed_float16",
    "bfloat16": "mixed_bfloat16",
    "mixed_bfloat16": "mixed_bfloat16",
}


def apply_mixed_precision(precision):
    """Set Keras' global dtype policy for `precision` and return the policy name.

    Args:
        precision: `None`, `"float16"` or `"bfloat16"` (`"float32"`,
            `"mixed_float16"` and `"mixed_bfloat16"` are accepted too).

    Raises:
        ValueError: for any other value.
    """
    key = precision.lower() if isinstance(precision, str) else precision
    if key not in _POLICIES:
        raise ValueError(
            "Unknown mixed precision. Expected None, 'float16' or 'bfloat16'. "
            f"Received: precision={precision!r}"
        )
    policy = _POLICIES[key]
    ensure_visible_logging()
    keras.mixed_precision.set_global_policy(policy)
    if policy == "mixed_float16":
        logger.info(
            "Mixed precision: policy mixed_float16 (float16 compute, float32 variables, "
            "dynamic loss scaling; logits and losses in float32)."
        )
    elif policy == "mixed_bfloat16":
        logger.info(
            "Mixed precision: policy mixed_bfloat16 (bfloat16 compute, float32 variables; "
            "logits and losses in float32)."
        )
    else:
        logger.info("Mixed precision: off (float32).")
    return policy
