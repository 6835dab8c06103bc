"""CTC: the per-step output layer, the loss and greedy / beam decoding.

Class 0 is the blank everywhere (`character_vocabulary.BLANK_ID`); labels are
padded with 0. `CTCHead` makes the padded steps of a clip certain blanks, so
the loss and the decoders can run over every step of the padded batch and
give the same result as over each clip's true steps.

Example:

>>> import numpy as np
>>> # 5 steps, classes (blank, a, b): the best path is "a a blank b b" -> [1, 2].
>>> path = [1, 1, 0, 2, 2]
>>> log_probs = np.log(np.full((1, 5, 3), 0.05) + 0.85 * np.eye(3)[path])
>>> ctc_greedy_decode(log_probs)
[[1, 2]]
"""

import keras
from keras import ops

from applications.speech.character_vocabulary import BLANK_ID

_CERTAIN = -1e4  # log-probability of the impossible classes on a padded step (exp underflows to 0)


@keras.saving.register_keras_serializable(package="applications.speech")
class CTCHead(keras.layers.Layer):
    """Per-step CTC log-probabilities; padded steps are certain blanks.

    A dense projection to `num_classes` (blank = class 0) and a log-softmax
    computed in float32, returned in the compute dtype (`CTCRecognizer` builds
    it with `dtype="float32"`, so the loss sees float32 under mixed precision). On a padded step (mask `False`) the output is `0` for the
    blank and `-1e4` for every other class: such steps add nothing to any
    labelling's probability, so CTC over the padded length equals CTC over
    the true length, and decoders emit nothing there.

    Args:
        num_classes: characters plus the blank.
        kernel_initializer: initializer of the projection.
        **kwargs: base `Layer` arguments.

    Call arguments:
        sequence: `(batch, steps, width)`.
        padding_mask: optional `(batch, steps)` bool, `True` on real steps.

    Returns:
        `(batch, steps, num_classes)` float32 log-probabilities.

    Example:

    >>> import numpy as np
    >>> head = CTCHead(num_classes=3)
    >>> out = head(np.ones((1, 2, 4), "float32"), padding_mask=np.array([[True, False]]))
    >>> np.asarray(out)[0, 1].tolist()
    [0.0, -10000.0, -10000.0]
    """

    def __init__(self, num_classes, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"`num_classes` must be an int >= 2. Received: num_classes={num_classes!r}")
        self.num_classes = num_classes
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, sequence_shape):
        self.dense = keras.layers.Dense(
            self.num_classes, kernel_initializer=self.kernel_initializer, name="dense", dtype=self.dtype_policy
        )
        self.dense.build(sequence_shape)
        self.built = True

    def call(self, sequence, padding_mask=None):
        log_probs = ops.log_softmax(ops.cast(self.dense(sequence), "float32"), axis=-1)  # (B, S, V)
        if padding_mask is not None:
            is_blank = ops.equal(ops.arange(self.num_classes), BLANK_ID)  # (V,)
            certain_blank = ops.where(is_blank, 0.0, _CERTAIN)
            real = ops.expand_dims(ops.cast(padding_mask, "bool"), -1)  # (B, S, 1)
            log_probs = ops.where(real, log_probs, certain_blank)
        return ops.cast(log_probs, self.compute_dtype)

    def compute_mask(self, sequence, mask=None):
        return None

    def compute_output_shape(self, sequence_shape):
        return (*sequence_shape[:-1], self.num_classes)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="applications.speech")
class CTCLoss(keras.losses.Loss):
    """CTC loss of `(batch, steps, classes)` log-probabilities against padded labels.

    `y_true` is `(batch, max_label_length)` int ids, padded with 0 (the
    blank, never a label); each label's length is its count of non-zero ids.
    Every step of `y_pred` is used (see `CTCHead` for padded clips). The
    per-example loss is the negative log-likelihood (`keras.ops.ctc_loss`,
    which is `tf.nn.ctc_loss` on TensorFlow), in float32.

    Example:

    >>> import numpy as np
    >>> log_probs = np.log(np.full((1, 4, 3), 1 / 3, "float32"))
    >>> round(float(CTCLoss()(np.array([[1, 0]]), log_probs)), 4)  # 10 alignments of 'a' in 4 steps: -log(10 / 3**4)
    2.0919
    """

    def __init__(self, name="ctc_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        labels = ops.cast(y_true, "int32")  # (B, L)
        label_lengths = ops.sum(ops.cast(ops.not_equal(labels, BLANK_ID), "int32"), axis=-1)
        y_pred = ops.cast(y_pred, "float32")  # (B, S, V)
        batch, steps = ops.shape(y_pred)[0], ops.shape(y_pred)[1]
        step_lengths = ops.full((batch,), steps, dtype="int32")
        return ops.ctc_loss(labels, y_pred, label_lengths, step_lengths, mask_index=BLANK_ID)


def ctc_greedy_decode(log_probs):
    """Best-path decoding: the most likely class per step, repeats merged, blanks removed.

    Args:
        log_probs: `(batch, steps, classes)` scores (log-probabilities or logits).

    Returns:
        A list of `batch` lists of ids.
    """
    decoded, _ = ops.ctc_decode(
        ops.convert_to_tensor(log_probs, "float32"),
        ops.full((ops.shape(log_probs)[0],), ops.shape(log_probs)[1], dtype="int32"),
        strategy="greedy",
        mask_index=BLANK_ID,
    )
    return _id_lists(decoded[0])


def ctc_beam_decode(log_probs, beam_width=16):
    """Prefix beam search: the labelling with the highest total probability summed
    over its alignments, among `beam_width` kept prefixes (`tf.nn.ctc_beam_search_decoder`).

    Args:
        log_probs: `(batch, steps, classes)` log-probabilities.
        beam_width: prefixes kept per step.

    Returns:
        A list of `batch` lists of ids.
    """
    if not isinstance(beam_width, int) or beam_width < 1:
        raise ValueError(f"`beam_width` must be a positive int. Received: beam_width={beam_width!r}")
    decoded, _ = ops.ctc_decode(
        ops.convert_to_tensor(log_probs, "float32"),
        ops.full((ops.shape(log_probs)[0],), ops.shape(log_probs)[1], dtype="int32"),
        strategy="beam_search",
        beam_width=beam_width,
        top_paths=1,
        mask_index=BLANK_ID,
    )
    return _id_lists(decoded[0])


def _id_lists(dense):
    """`(batch, steps)` decoder output padded with -1 (or 0 after keras' index shift) -> lists."""
    return [[int(i) for i in row if i > BLANK_ID] for row in keras.ops.convert_to_numpy(dense)]
