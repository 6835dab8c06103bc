"""Waveform augmentation on the fly in `tf.data`: speed, pitch, gain, noise, reverberation.

Each augmentation acts on one clip's real samples (`audio[:length]`) inside the training
pipeline (`data.make_dataset(..., augment=...)`), before padding back to the model's length,
so the model, its SavedModel and prediction never see it. Every random number comes from
stateless ops seeded by `(seed, example counter)`: the same `--seed` gives the same
augmented stream, and each pass over the data draws new augmentations.

The augmentations (names of `--augment`), each applied to a clip with probability
`PROBABILITY`, with a strength drawn uniformly from its range:

| name | what | range |
|---|---|---|
| `speed` | resample (tempo and pitch together, Kaldi's speed perturbation) | x0.9 - x1.1 |
| `pitch` | pitch shift keeping the duration: phase-vocoder time stretch, then resample | -3 - +3 semitones |
| `gain` | scale the waveform | -12 - +6 dB |
| `eq` | colour the spectrum with a smooth random gain curve over log-frequency (a voice's, a microphone's or a room's colouring); the clip's power is kept | up to +-12 dB |
| `noise` | white Gaussian noise at a signal-to-noise ratio | 5 - 30 dB SNR |
| `reverb` | convolve with a synthetic room impulse response (direct path + exponentially decaying noise) | RT60 0.1 - 0.6 s |

Resampling is band-limited (FFT: the spectrum cut or zero-padded, like
`scipy.signal.resample`); the time stretch is librosa's phase vocoder
(`librosa.effects.time_stretch`), written with `tf.signal`.

Example:

>>> import numpy as np
>>> clip = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype("float32")
>>> int(resample(clip, 1.25).shape[0])  # played 1.25x faster: 0.8 s
12800
>>> augment = Augmentation(("gain", "noise"), seed=0)
>>> audio, length = augment.apply(np.pad(clip, (0, 800)), 16000, index=3)
>>> audio.shape, int(length)
(TensorShape([16800]), 16000)
"""

import math

import tensorflow as tf

NAMES = ("speed", "pitch", "gain", "eq", "noise", "reverb")
PROBABILITY = 0.5  # of each enabled augmentation, per clip
SPEED_RANGE = (0.9, 1.1)
PITCH_SEMITONES = 3.0
GAIN_DB = (-12.0, 6.0)
SNR_DB = (5.0, 30.0)
RT60_SECONDS = (0.1, 0.6)
EQ_DB = 12.0
SAMPLE_RATE = 16000
FFT_LENGTH, HOP = 512, 128  # phase vocoder: 32 ms windows every 8 ms


def parse_augment(text):
    """`"speed,noise"` -> `("speed", "noise")`; `"none"` or `""` -> `()`.

    >>> parse_augment("noise, speed"), parse_augment("none")
    (('speed', 'noise'), ())
    """
    if text is None:
        return ()
    if isinstance(text, (list, tuple)):
        names = [str(name).strip() for name in text]
    else:
        names = [name.strip() for name in str(text).split(",")]
    names = [name for name in names if name and name != "none"]
    unknown = sorted(set(names) - set(NAMES))
    if unknown:
        raise ValueError(f"--augment takes a comma-separated subset of {', '.join(NAMES)} (or none). "
                         f"Received: augment={text!r}")
    return tuple(name for name in NAMES if name in names)


def resample(audio, factor):
    """Band-limited resampling of a 1-D clip to `round(len / factor)` samples: `factor > 1`
    plays it faster (shorter, higher); the FFT spectrum is cut or zero-padded."""
    audio = tf.convert_to_tensor(audio, tf.float32)
    length = tf.shape(audio)[0]
    new_length = tf.maximum(1, tf.cast(tf.round(tf.cast(length, tf.float32) / factor), tf.int32))
    spectrum = tf.signal.rfft(audio)  # (length // 2 + 1,)
    bins = new_length // 2 + 1
    kept = spectrum[: tf.minimum(bins, tf.shape(spectrum)[0])]
    kept = tf.pad(kept, [[0, bins - tf.shape(kept)[0]]])
    scale = tf.cast(new_length, tf.float32) / tf.cast(length, tf.float32)
    return tf.signal.irfft(kept, fft_length=[new_length]) * scale


def time_stretch(audio, rate):
    """Phase-vocoder time stretch of a 1-D clip: `rate > 1` is faster (shorter), the pitch
    unchanged (librosa's `phase_vocoder`)."""
    audio = tf.convert_to_tensor(audio, tf.float32)
    window = tf.signal.hann_window
    stft = tf.signal.stft(audio, FFT_LENGTH, HOP, FFT_LENGTH, window_fn=window, pad_end=True)  # (T, K)
    frames = tf.shape(stft)[0]
    steps = tf.range(0.0, tf.cast(frames, tf.float32), rate)  # (T',) fractional source frames
    stft = tf.concat([stft, tf.zeros_like(stft[:2])], axis=0)  # read past the end
    left = tf.cast(tf.floor(steps), tf.int32)
    fraction = (steps - tf.floor(steps))[:, None]
    a, b = tf.gather(stft, left), tf.gather(stft, left + 1)
    magnitude = (1.0 - fraction) * tf.abs(a) + fraction * tf.abs(b)  # (T', K)
    advance = math.pi * HOP * tf.range(FFT_LENGTH // 2 + 1, dtype=tf.float32) / (FFT_LENGTH // 2)
    delta = tf.math.angle(b) - tf.math.angle(a) - advance
    delta = delta - 2.0 * math.pi * tf.round(delta / (2.0 * math.pi))
    phase = tf.math.angle(stft[:1]) + tf.math.cumsum(delta + advance, axis=0, exclusive=True)
    stretched = tf.complex(magnitude * tf.cos(phase), magnitude * tf.sin(phase))
    out = tf.signal.inverse_stft(stretched, FFT_LENGTH, HOP, FFT_LENGTH,
                                 window_fn=tf.signal.inverse_stft_window_fn(HOP, window))
    target = tf.cast(tf.round(tf.cast(tf.shape(audio)[0], tf.float32) / rate), tf.int32)
    return out[:target]


def pitch_shift(audio, semitones):
    """Shift the pitch by `semitones`, keeping the duration: stretch to `r` times the length
    (`r = 2 ** (semitones / 12)`), then resample `r` times faster."""
    ratio = tf.pow(2.0, tf.cast(semitones, tf.float32) / 12.0)
    return resample(time_stretch(audio, 1.0 / ratio), ratio)


def equalize(audio, depth_db, seed):
    """Multiply the spectrum by a smooth random curve, `depth_db` at its extremes: three
    cosines of random phase and weight over log-frequency (50 Hz - 8 kHz). The result has
    the clip's power."""
    audio = tf.convert_to_tensor(audio, tf.float32)
    spectrum = tf.signal.rfft(audio)
    bins = tf.shape(spectrum)[0]
    frequency = tf.linspace(0.0, SAMPLE_RATE / 2.0, bins)
    position = tf.math.log(frequency + 50.0) / math.log(SAMPLE_RATE / 2.0 + 50.0)  # (K,) ~0.4 .. 1
    draws = tf.random.stateless_uniform([2, 3], seed=seed)
    weights, phases = draws[0] * 2.0 - 1.0, draws[1] * 2.0 * math.pi
    curve = tf.reduce_sum(weights[:, None] * tf.cos(math.pi * tf.range(1.0, 4.0)[:, None] * position[None] * 2.0
                                                    + phases[:, None]), axis=0)
    curve = depth_db * curve / (tf.reduce_max(tf.abs(curve)) + 1e-6)  # (K,) dB
    coloured = tf.signal.irfft(spectrum * tf.cast(tf.pow(10.0, curve / 20.0), tf.complex64), [tf.shape(audio)[0]])
    scale = tf.sqrt((tf.reduce_mean(tf.square(audio)) + 1e-10) / (tf.reduce_mean(tf.square(coloured)) + 1e-10))
    return coloured * scale


def add_noise(audio, snr_db, seed):
    """White Gaussian noise at `snr_db` dB below the clip's mean power."""
    power = tf.reduce_mean(tf.square(audio)) + 1e-10
    noise = tf.random.stateless_normal(tf.shape(audio), seed=seed)
    return audio + noise * tf.sqrt(power / tf.pow(10.0, snr_db / 10.0))


def reverberate(audio, rt60, seed):
    """Convolve with a synthetic room response: a direct path and Gaussian noise decaying by
    60 dB in `rt60` seconds (at most 0.5 s long); the result has the clip's power."""
    length = tf.cast(tf.minimum(rt60, 0.5) * SAMPLE_RATE, tf.int32)
    time = tf.range(length, dtype=tf.float32) / SAMPLE_RATE
    tail = tf.random.stateless_normal([length], seed=seed) * tf.exp(-6.908 * time / rt60) * 0.1  # ln(1000)
    response = tf.concat([[1.0], tail[1:]], axis=0)
    size = tf.shape(audio)[0] + length
    fft_length = tf.cast(2 ** tf.math.ceil(tf.math.log(tf.cast(size, tf.float32)) / math.log(2.0)), tf.int32)
    wet = tf.signal.irfft(tf.signal.rfft(audio, [fft_length]) * tf.signal.rfft(response, [fft_length]),
                          [fft_length])[: tf.shape(audio)[0]]
    scale = tf.sqrt((tf.reduce_mean(tf.square(audio)) + 1e-10) / (tf.reduce_mean(tf.square(wet)) + 1e-10))
    return wet * scale


class Augmentation:
    """The enabled augmentations of a training run, applied clip by clip in `tf.data`.

    Args:
        names: a subset of `NAMES` (see the module doc), in any order; they are applied in
            the order of `NAMES`.
        seed: the run's seed.
        probability: of each augmentation, per clip.
    """

    def __init__(self, names, seed=0, probability=PROBABILITY):
        self.names = parse_augment(names)
        self.seed = int(seed)
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"`probability` must be in [0, 1]. Received: probability={probability}")
        self.probability = probability

    def __bool__(self):
        return bool(self.names)

    def apply(self, audio, length, index):
        """One padded clip `(max_samples,)` with its length and example counter ->
        `(augmented clip padded or cut to max_samples, new length)`."""
        audio = tf.convert_to_tensor(audio, tf.float32)
        max_samples = tf.shape(audio)[0]
        clip = audio[: tf.cast(length, tf.int32)]
        base = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(index, tf.int64)])
        for number, name in enumerate(NAMES):
            if name not in self.names:
                continue
            seeds = tf.random.experimental.stateless_split(
                tf.random.experimental.stateless_fold_in(base, number), 3)
            applied = tf.random.stateless_uniform([], seed=seeds[0]) < self.probability
            amount = tf.random.stateless_uniform([], seed=seeds[1])  # in [0, 1)
            clip = tf.cond(applied, lambda c=clip, n=name, a=amount, s=seeds[2]: self._one(n, c, a, s),
                           lambda c=clip: c)
        new_length = tf.minimum(tf.shape(clip)[0], max_samples)
        padded = tf.pad(clip[:new_length], [[0, max_samples - new_length]])
        return tf.ensure_shape(padded, audio.shape), tf.cast(new_length, tf.int32)

    @staticmethod
    def _one(name, clip, amount, seed):
        def between(low, high):
            return low + (high - low) * amount

        if name == "speed":
            return resample(clip, between(*SPEED_RANGE))
        if name == "pitch":
            return pitch_shift(clip, between(-PITCH_SEMITONES, PITCH_SEMITONES))
        if name == "gain":
            return clip * tf.pow(10.0, between(*GAIN_DB) / 20.0)
        if name == "eq":
            return equalize(clip, between(0.0, EQ_DB), seed)
        if name == "noise":
            return add_noise(clip, between(*SNR_DB), seed)
        return reverberate(clip, between(*RT60_SECONDS), seed)

    def map_dataset(self, dataset):
        """`dataset` of `(inputs with "audio" and "sample_lengths", targets)` elements, each
        clip augmented (an example counter makes every element's numbers its own)."""

        def augment(index, element):
            inputs, targets = element
            audio, length = self.apply(inputs["audio"], inputs["sample_lengths"], index)
            return dict(inputs, audio=audio, sample_lengths=length), targets

        return dataset.enumerate().map(augment, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
