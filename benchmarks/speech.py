"""Benchmark 6: speech encoder forward throughput (seconds of audio per second).

`applications.speech.SpeechEncoder` (keras_attn encoder) vs the audio encoder
of `keras_hub.models.WhisperBackbone` (its conv stem, positions, Whisper
encoder layers and final norm, cut out of the functional backbone), both at
Whisper-tiny's encoder size (width 384, 4 layers, 6 heads, MLP 1536, 80 mel
bins) on 30 s clips (3000 frames -> 1500 tokens), batch 2; inference
forward pass, without and with XLA.
"""

import numpy as np

from common import LOG, modes, interleaved_median, rate_result

FULL = dict(width=384, layers=4, heads=6, mlp=1536, mels=80, frames=3000, batch=2)
QUICK = dict(width=16, layers=1, heads=2, mlp=32, mels=8, frames=40, batch=2)
FRAMES_PER_SECOND = 100  # 10 ms hop
TARGET = 1.0


def _whisper_encoder(size):
    import keras
    import keras_hub

    backbone = keras_hub.models.WhisperBackbone(
        vocabulary_size=16, num_layers=size["layers"], num_heads=size["heads"], hidden_dim=size["width"],
        intermediate_dim=size["mlp"], num_mels=size["mels"], max_encoder_sequence_length=size["frames"],
        max_decoder_sequence_length=4,
    )
    return keras.Model(backbone.input["encoder_features"], backbone.output["encoder_sequence_output"])


def run(quick=False, repeats=5):
    try:
        from applications.speech.speech_encoder import SpeechEncoder
    except ImportError as error:
        return f"applications.speech.SpeechEncoder is not available ({error})"
    import keras
    import tensorflow as tf

    size = QUICK if quick else FULL
    features = tf.constant(
        np.random.default_rng(0).normal(size=(size["batch"], size["frames"], size["mels"])).astype("float32")
    )
    audio_seconds = size["batch"] * size["frames"] / FRAMES_PER_SECOND
    results = []
    for mode, jit_compile in modes(quick):
        keras.utils.set_random_seed(0)
        ours = SpeechEncoder(
            hidden_dim=size["width"], num_layers=size["layers"], num_heads=size["heads"],
            intermediate_dim=size["mlp"], num_mel_bins=size["mels"], max_frames=size["frames"],
            layer_norm_epsilon=1e-5,
        )
        ours.build((None, size["frames"], size["mels"]))
        theirs = _whisper_encoder(size)
        forwards = {
            "keras_attn": tf.function(lambda x: ours(x), jit_compile=jit_compile),
            "keras_hub": tf.function(lambda x: theirs(x), jit_compile=jit_compile),
        }
        calls = {name: (lambda f: lambda: f(features).numpy())(f) for name, f in forwards.items()}
        times = interleaved_median(calls, repeats)
        LOG.info("6: %s: %s", mode, times)
        results.append(
            rate_result(
                "6", f"speech encoder forward, {size['frames'] / FRAMES_PER_SECOND:g} s clips, batch {size['batch']}",
                mode, audio_seconds / times["keras_attn"], audio_seconds / times["keras_hub"],
                "keras_hub Whisper encoder", "audio s / s", TARGET,
            )
        )
    return results
