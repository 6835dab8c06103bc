"""The learning-rate schedule of "Attention Is All You Need" (Vaswani et al., 2017)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_attn")
class TransformerSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up, then decay with the inverse square root of the step.

    `lr(step) = scale * hidden_dim ** -0.5 * min(s ** -0.5, s * warmup_steps ** -1.5)`
    with `s = max(step, 1)`. The rate grows linearly up to its peak
    `scale * (hidden_dim * warmup_steps) ** -0.5` at `step == warmup_steps` and
    falls as `1 / sqrt(step)` after it. `step` is the optimizer's iteration count,
    so step 0 (the first update) uses the rate of step 1 instead of zero.

    Args:
        hidden_dim: The model width `d_model`.
        warmup_steps: Steps of linear warm-up. Defaults to `4000`.
        scale: Multiplies the whole schedule. Defaults to `1.0`.

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762), section 5.3

    Example:

    >>> schedule = TransformerSchedule(hidden_dim=64, warmup_steps=100)
    >>> [round(float(schedule(step)), 6) for step in (1, 50, 100, 400)]
    [0.000125, 0.00625, 0.0125, 0.00625]
    """

    def __init__(self, hidden_dim, warmup_steps=4000, scale=1.0):
        if hidden_dim is None or hidden_dim <= 0:
            raise ValueError(f"`hidden_dim` must be positive. Received: hidden_dim={hidden_dim}")
        if warmup_steps is None or warmup_steps <= 0:
            raise ValueError(
                f"`warmup_steps` must be positive. Received: warmup_steps={warmup_steps}"
            )
        self.hidden_dim = int(hidden_dim)
        self.warmup_steps = int(warmup_steps)
        self.scale = float(scale)

    def __call__(self, step):
        s = ops.maximum(ops.cast(step, "float32"), 1.0)
        warmup = ops.cast(self.warmup_steps, "float32")
        decay = ops.power(s, -0.5)
        ramp = s * ops.power(warmup, -1.5)
        factor = self.scale * float(self.hidden_dim) ** -0.5
        return factor * ops.minimum(decay, ramp)

    def get_config(self):
        return {
            "hidden_dim": self.hidden_dim,
            "warmup_steps": self.warmup_steps,
            "scale": self.scale,
        }
