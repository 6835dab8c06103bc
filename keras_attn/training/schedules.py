"""Learning-rate schedules: linear warm-up, then cosine or inverse-square-root decay.

- `warmup_cosine_decay(peak_learning_rate, total_steps, warmup_steps, final_learning_rate_fraction)`:
  linear warm-up from 0, then cosine decay to a fraction of the peak (ViT, GPT, BERT); a
  `keras.optimizers.schedules.CosineDecay`.
- `WarmupInverseSquareRoot(peak_learning_rate, warmup_steps)`: linear warm-up, then decay with
  `1 / sqrt(step)` (the Transformer's shape with the peak given directly).
- `TransformerSchedule(hidden_dim, warmup_steps)`: the formula of "Attention Is All You
  Need" (Vaswani et al., 2017), whose peak is `(hidden_dim * warmup_steps) ** -0.5`.

Every application trainer takes its schedule from here
(`applications.skeleton.optimization`).
"""

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


def warmup_cosine_decay(peak_learning_rate, total_steps, warmup_steps=0, final_learning_rate_fraction=0.0):
    """Linear warm-up from 0 to `peak_learning_rate` over `warmup_steps`, then cosine decay to
    `final_learning_rate_fraction * peak_learning_rate` at `total_steps`.

    Returns a `keras.optimizers.schedules.CosineDecay` (serialisable by Keras).

    Example:

    >>> schedule = warmup_cosine_decay(1e-3, total_steps=100, warmup_steps=10, final_learning_rate_fraction=0.1)
    >>> [round(float(schedule(step)), 6) for step in (0, 5, 10, 100)]
    [0.0, 0.0005, 0.001, 0.0001]
    """
    if not peak_learning_rate or peak_learning_rate <= 0:
        raise ValueError(f"`peak_learning_rate` must be positive. Received: peak_learning_rate={peak_learning_rate}")
    if total_steps < 1:
        raise ValueError(f"`total_steps` must be >= 1. Received: total_steps={total_steps}")
    if not 0 <= warmup_steps < total_steps and not (warmup_steps == 0 and total_steps == 1):
        raise ValueError(
            f"`warmup_steps` must be in [0, total_steps). Received: warmup_steps={warmup_steps}, "
            f"total_steps={total_steps}"
        )
    if not 0.0 <= final_learning_rate_fraction <= 1.0:
        raise ValueError(
            "`final_learning_rate_fraction` must be in [0, 1]. "
            f"Received: final_learning_rate_fraction={final_learning_rate_fraction}"
        )
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup_steps else float(peak_learning_rate),
        decay_steps=max(1, int(total_steps) - int(warmup_steps)),
        alpha=float(final_learning_rate_fraction),
        warmup_target=float(peak_learning_rate) if warmup_steps else None,
        warmup_steps=int(warmup_steps),
    )


@keras.saving.register_keras_serializable(package="keras_attn")
class WarmupInverseSquareRoot(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to `peak_learning_rate` at `warmup_steps`, then `peak * sqrt(warmup / step)`.

    `lr(step) = peak * min(s / warmup_steps, sqrt(warmup_steps / s))` with `s = max(step, 1)`:
    the shape of `TransformerSchedule` with the peak given directly (`TransformerSchedule`
    with `hidden_dim` and `warmup_steps` equals this one with
    `peak_learning_rate=(hidden_dim * warmup_steps) ** -0.5`).

    Args:
        peak_learning_rate: the rate at `warmup_steps`.
        warmup_steps: steps of linear warm-up (>= 1).

    Example:

    >>> schedule = WarmupInverseSquareRoot(1e-3, warmup_steps=100)
    >>> [round(float(schedule(step)), 6) for step in (50, 100, 400)]
    [0.0005, 0.001, 0.0005]
    """

    def __init__(self, peak_learning_rate, warmup_steps):
        if not peak_learning_rate or peak_learning_rate <= 0:
            raise ValueError(
                f"`peak_learning_rate` must be positive. Received: peak_learning_rate={peak_learning_rate}"
            )
        if warmup_steps is None or warmup_steps < 1:
            raise ValueError(f"`warmup_steps` must be >= 1. Received: warmup_steps={warmup_steps}")
        self.peak_learning_rate = float(peak_learning_rate)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        s = ops.maximum(ops.cast(step, "float32"), 1.0)
        warmup = float(self.warmup_steps)
        return self.peak_learning_rate * ops.minimum(s / warmup, ops.sqrt(warmup / s))

    def get_config(self):
        return {"peak_learning_rate": self.peak_learning_rate, "warmup_steps": self.warmup_steps}
