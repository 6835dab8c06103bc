"""The optimizer of a training run, made from the task's recipe and the shared settings.

`build_optimizer(task, settings, steps_per_epoch, num_replicas)` is the one place where the
flags `--learning-rate`, `--warmup-steps` and `--weight-decay` become an optimizer:
Adam or AdamW (`OptimizerRecipe.optimizer`), a schedule from `keras_attn.training.schedules`
(linear warm-up, then cosine or inverse-square-root decay) and, where the recipe asks,
global gradient-norm clipping.

Clipping is turned off (with a warning) with more than one replica: Keras clips each
replica's gradients before summing them, which is not the one-device update, so training
would depend on the replica count.
"""

import logging

logger = logging.getLogger(__name__)


def learning_rate_schedule(task, settings, steps_per_epoch):
    """The schedule of a run: `(schedule, peak_learning_rate, warmup_steps, total_steps)`."""
    from keras_attn.training import WarmupInverseSquareRoot, warmup_cosine_decay

    recipe = task.recipe
    total_steps = max(1, int(settings.epochs) * int(steps_per_epoch))
    warmup = min(task.warmup_steps(settings, total_steps, steps_per_epoch), total_steps - 1)
    peak = task.peak_learning_rate(settings, warmup)
    if recipe.schedule == "cosine":
        schedule = warmup_cosine_decay(peak, total_steps, max(0, warmup), recipe.final_learning_rate_fraction)
    elif recipe.schedule == "inverse_sqrt":
        schedule = WarmupInverseSquareRoot(peak, max(1, warmup))
    else:
        raise ValueError(f"Unknown schedule {recipe.schedule!r} in {task.name}'s recipe.")
    return schedule, peak, warmup, total_steps


def build_optimizer(task, settings, steps_per_epoch, num_replicas=1):
    """The compiled optimizer of a run (see the module doc)."""
    import keras

    recipe = task.recipe
    schedule, _, _, _ = learning_rate_schedule(task, settings, steps_per_epoch)
    clip = settings.to_dict().get("gradient_clip_norm", recipe.clip_norm)  # a task may expose it as a setting
    if clip and num_replicas > 1:
        logger.warning(
            "Gradient clipping (%s) is off with %d replicas: Keras would clip each replica's gradients "
            "before summing them.", clip, num_replicas,
        )
        clip = None
    common = dict(learning_rate=schedule, beta_1=recipe.beta_1, beta_2=recipe.beta_2, epsilon=recipe.epsilon,
                  global_clipnorm=clip or None)
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(**common)
    if recipe.optimizer != "adamw":
        raise ValueError(f"Unknown optimizer {recipe.optimizer!r} in {task.name}'s recipe.")
    optimizer = keras.optimizers.AdamW(weight_decay=settings.weight_decay or 0.0, **common)
    if recipe.no_weight_decay:
        optimizer.exclude_from_weight_decay(var_names=list(recipe.no_weight_decay))
    return optimizer
