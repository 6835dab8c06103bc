"""The shared input graph of the speech models: padded audio -> encoder steps."""

import keras
from keras import ops

from keras_attn.layers import LogMelSpectrogram


def audio_steps(encoder, front_end, audio, sample_lengths, feature_normalization=None, spec_augment=None,
                training=None):
    """`(steps (batch, steps, hidden_dim), step_mask (batch, steps))` of padded clips.

    Log-mels of the front end, their frame mask (from the true lengths), the optional
    per-utterance normalisation over the real frames, SpecAugment (training only), and the
    encoder with the mask carried through its stride. Works on `keras.Input`s (the models'
    graphs) and on tensors (the decoders run the encoder once per batch with it).
    """
    features = front_end(audio, sample_lengths=sample_lengths)  # (B, F, M)
    frame_mask = front_end.frame_padding_mask(sample_lengths, features.shape[1] or ops.shape(features)[1])
    if feature_normalization is not None:
        features = feature_normalization(features, padding_mask=frame_mask)
    if spec_augment is not None:
        features = spec_augment(features, training=training)
    steps = encoder(features, padding_mask=frame_mask, training=training)  # (B, S, C)
    return steps, encoder.output_padding_mask(frame_mask)  # (B, S)


def encode_audio(encoder, front_end, spec_augment, max_samples, feature_normalization=None):
    """Build the functional graph `audio, sample_lengths -> (steps, step_mask)`.

    Inputs: `audio` `(batch, max_samples)` float32, each clip zero-padded to
    `max_samples`, and `sample_lengths` `(batch,)` int32, its true length.
    The front end turns them into log-mels, whose frame mask (from the true
    lengths) is carried through the encoder; `feature_normalization` (an
    `UtteranceNormalization`, or `None`) normalises each clip over its real
    frames; `spec_augment` (or `None`) acts only in training.

    Returns:
        `(inputs, steps, step_mask)`: the two `keras.Input`s as a dict, the
        encoder output `(batch, steps, hidden_dim)` and its `(batch, steps)`
        padding mask.
    """
    if not isinstance(max_samples, int) or max_samples < front_end.fft_length // 2 + 1:
        raise ValueError(
            f"`max_samples` must be an int of at least {front_end.fft_length // 2 + 1}. "
            f"Received: max_samples={max_samples!r}"
        )
    if front_end.num_mel_bins != encoder.num_mel_bins:
        raise ValueError(
            "The front end and the encoder disagree on the number of mel bins. Received: "
            f"front_end.num_mel_bins={front_end.num_mel_bins}, encoder.num_mel_bins={encoder.num_mel_bins}"
        )
    frames = front_end.num_frames(max_samples)
    if frames > encoder.max_frames:
        raise ValueError(
            f"`max_samples` gives {frames} frames, more than the encoder's max_frames="
            f"{encoder.max_frames}. Received: max_samples={max_samples}"
        )
    audio = keras.Input(shape=(max_samples,), dtype="float32", name="audio")
    sample_lengths = keras.Input(shape=(), dtype="int32", name="sample_lengths")
    steps, step_mask = audio_steps(encoder, front_end, audio, sample_lengths, feature_normalization, spec_augment)
    return {"audio": audio, "sample_lengths": sample_lengths}, steps, step_mask


def default_front_end(encoder):
    """Whisper's log-mel front end with the encoder's number of mel bins."""
    return LogMelSpectrogram(num_mel_bins=encoder.num_mel_bins, name="log_mel")
