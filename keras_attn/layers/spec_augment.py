"""SpecAugment time and frequency masking (Park et al., 2019).

Example:

>>> import numpy as np
>>> from keras_attn.layers import SpecAugment
>>> layer = SpecAugment(time_masks=1, time_mask_width=3, frequency_masks=1,
...                     frequency_mask_width=2, seed=0)
>>> features = np.ones((2, 10, 8), "float32")
>>> bool(np.all(np.asarray(layer(features)) == features))  # inference: identity
True
>>> masked = np.asarray(layer(features, training=True))
>>> masked.shape
(2, 10, 8)
"""

import keras
from keras import ops


def _check_count(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}")


@keras.saving.register_keras_serializable(package="keras_attn")
class SpecAugment(keras.layers.Layer):
    """Random time and frequency masks on `(batch, frames, bins)` features.

    In training (`training=True`) each example independently gets
    `time_masks` time masks and `frequency_masks` frequency masks. A mask's
    width `w` is drawn uniformly from `[0, max_width]` (`max_width` capped at
    the axis size) and its start uniformly from `[0, size - w]`; the masked
    entries are replaced by `mask_value`. Masks may overlap. With
    `training=False` (or unset) the layer is the identity.

    The masks are computed from `keras.random.uniform` draws with the layer's
    `SeedGenerator` and compared against `arange` positions, so shapes are
    static and there is no Python randomness in `call`: it runs inside
    `fit`, under `jit_compile=True`, and is reproducible with a fixed `seed`.

    The defaults are the LibriSpeech "LD" policy of the paper (two masks of
    up to 27 mel bins, two masks of up to 100 frames), for 80-bin log-mels at a
    10 ms hop.

    Args:
        time_masks: number of time masks per example. Defaults to 2.
        time_mask_width: maximum width of a time mask, in frames. Defaults to 100.
        frequency_masks: number of frequency masks per example. Defaults to 2.
        frequency_mask_width: maximum width of a frequency mask, in bins.
            Defaults to 27.
        mask_value: a float, or `"mean"` for each example's mean over its
            frames and bins. Defaults to 0.0.
        seed: int or `None`, seeds the layer's `keras.random.SeedGenerator`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `(batch, frames, bins)` features.
        training: apply the masks only when `True`.

    The implicit Keras mask, if any, passes through unchanged.
    """

    def __init__(
        self,
        time_masks=2,
        time_mask_width=100,
        frequency_masks=2,
        frequency_mask_width=27,
        mask_value=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        _check_count("time_masks", time_masks)
        _check_count("time_mask_width", time_mask_width)
        _check_count("frequency_masks", frequency_masks)
        _check_count("frequency_mask_width", frequency_mask_width)
        if isinstance(mask_value, str):
            if mask_value != "mean":
                raise ValueError(
                    '`mask_value` must be a number or "mean". '
                    f"Received: mask_value={mask_value!r}"
                )
        elif isinstance(mask_value, bool) or not isinstance(mask_value, (int, float)):
            raise ValueError(
                '`mask_value` must be a number or "mean". '
                f"Received: mask_value={mask_value!r}"
            )
        else:
            mask_value = float(mask_value)
        self.time_masks = time_masks
        self.time_mask_width = time_mask_width
        self.frequency_masks = frequency_masks
        self.frequency_mask_width = frequency_mask_width
        self.mask_value = mask_value
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def _axis_mask(self, batch, size, count, max_width):
        """`(batch, size)` bool: True where any of `count` random spans covers."""
        if count == 0 or max_width == 0:
            return None
        draws = keras.random.uniform((batch, count, 2), seed=self.seed_generator)
        size_f = ops.cast(size, "float32")
        max_w = ops.minimum(float(max_width), size_f)
        width = ops.minimum(ops.floor(draws[..., 0] * (max_w + 1.0)), max_w)
        start = ops.minimum(ops.floor(draws[..., 1] * (size_f - width + 1.0)), size_f - width)
        positions = ops.cast(ops.arange(size), "float32")
        positions = ops.reshape(positions, (1, 1, -1))
        covered = ops.logical_and(
            ops.greater_equal(positions, ops.expand_dims(start, -1)),
            ops.less(positions, ops.expand_dims(start + width, -1)),
        )
        return ops.any(covered, axis=1)

    def call(self, inputs, training=None):
        if len(inputs.shape) != 3:
            raise ValueError(
                "`SpecAugment` expects features of shape (batch, frames, bins). "
                f"Received: inputs.shape={tuple(inputs.shape)}"
            )
        if not training:
            return inputs
        shape = ops.shape(inputs)
        batch, frames, bins = shape[0], shape[1], shape[2]
        time_mask = self._axis_mask(batch, frames, self.time_masks, self.time_mask_width)
        freq_mask = self._axis_mask(batch, bins, self.frequency_masks, self.frequency_mask_width)
        masks = []
        if time_mask is not None:
            masks.append(ops.expand_dims(time_mask, -1))
        if freq_mask is not None:
            masks.append(ops.expand_dims(freq_mask, 1))
        if not masks:
            return inputs
        mask = masks[0] if len(masks) == 1 else ops.logical_or(masks[0], masks[1])
        if self.mask_value == "mean":
            value = ops.mean(inputs, axis=(1, 2), keepdims=True)
        else:
            value = ops.cast(self.mask_value, inputs.dtype)
        return ops.where(mask, value, inputs)

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "time_masks": self.time_masks,
                "time_mask_width": self.time_mask_width,
                "frequency_masks": self.frequency_masks,
                "frequency_mask_width": self.frequency_mask_width,
                "mask_value": self.mask_value,
                "seed": self.seed,
            }
        )
        return config
