"""Named speech encoder sizes, decoded in one place.

`speech_encoder_config("tiny", num_layers=1)` returns the widths of a named size
with any dimension overridden (the `--size` and dimension flags of
`keras-attn speech train`). The `whisper-*` sizes are the encoder shapes of
OpenAI's Whisper checkpoints (Radford et al., 2022, table 1); `tiny` and `small`
are sized to train on a laptop CPU.

Example:

>>> config = speech_encoder_config("tiny", num_layers=1)
>>> config.hidden_dim, config.num_layers, config.num_heads
(64, 1, 4)
>>> sorted(SIZES)[:3]
['base', 'small', 'tiny']
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class SpeechEncoderConfig:
    """The arguments of `SpeechEncoder` that a size name decides."""

    hidden_dim: int
    num_layers: int
    num_heads: int
    intermediate_dim: int
    num_mel_bins: int = 80
    max_frames: int = 3000  # 30 s of 10 ms frames, Whisper's window

    def encoder_kwargs(self):
        return dataclasses.asdict(self)


SIZES = {
    # hidden_dim, num_layers, num_heads, intermediate_dim
    "tiny": SpeechEncoderConfig(64, 2, 4, 128),  # ~0.1 M parameters, keywords on a CPU
    "small": SpeechEncoderConfig(192, 4, 4, 768),
    "base": SpeechEncoderConfig(256, 6, 4, 1024),
    "whisper-tiny": SpeechEncoderConfig(384, 4, 6, 1536),
    "whisper-base": SpeechEncoderConfig(512, 6, 8, 2048),
    "whisper-small": SpeechEncoderConfig(768, 12, 12, 3072),
}


def speech_encoder_config(size="tiny", **overrides):
    """The `SpeechEncoderConfig` of a named size, with `None`-valued overrides ignored.

    Raises:
        ValueError: for an unknown size or override name.
    """
    if size not in SIZES:
        raise ValueError(f"Unknown speech encoder size. Expected one of {sorted(SIZES)}. Received: size={size!r}")
    fields = {field.name for field in dataclasses.fields(SpeechEncoderConfig)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(f"Unknown speech encoder dimension(s) {unknown}. Expected some of {sorted(fields)}.")
    changes = {name: value for name, value in overrides.items() if value is not None}
    return dataclasses.replace(SIZES[size], **changes)
