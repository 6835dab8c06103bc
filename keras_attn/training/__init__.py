"""Training utilities shared by every keras_attn application trainer.

`resolve_strategy` picks the `tf.distribute` strategy, `apply_mixed_precision`
sets the dtype policy, and `TrainingRun` runs `model.fit` with checkpoints,
resumption, a NaN/Inf guard and training records. `warmup_cosine_decay`,
`WarmupInverseSquareRoot` and `TransformerSchedule` are the learning-rate
schedules, `MaskedSparseCategoricalCrossentropy` and `MaskedAccuracy` the loss
and metric of sequence models. This package uses TensorFlow directly.
"""

from keras_attn.training import compat
from keras_attn.training.checkpointing import CheckpointMismatchError
from keras_attn.training.checkpointing import ResumableCheckpoint
from keras_attn.training.curves import write_training_curve
from keras_attn.training.losses import MaskedSparseCategoricalCrossentropy
from keras_attn.training.metrics import MaskedAccuracy
from keras_attn.training.mixed_precision import apply_mixed_precision
from keras_attn.training.nan_guard import NonFiniteLossError
from keras_attn.training.nan_guard import NonFiniteLossGuard
from keras_attn.training.run import TrainingRun
from keras_attn.training.schedules import TransformerSchedule
from keras_attn.training.schedules import WarmupInverseSquareRoot
from keras_attn.training.schedules import warmup_cosine_decay
from keras_attn.training.strategy import is_chief
from keras_attn.training.strategy import resolve_strategy
from keras_attn.training.strategy import strategy_kind
