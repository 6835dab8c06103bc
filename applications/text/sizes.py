"""Named translator sizes, decoded in one place.

`"base"` is the base model of "Attention Is All You Need" (6 layers, width 512,
8 heads, 2048 feed-forward); the smaller ones train on a CPU. The four
dimension flags of `keras-attn text train` override any of them.
"""

import dataclasses

SIZES = {
    # name: (num_layers, hidden_dim, num_heads, intermediate_dim)
    "tiny": (1, 64, 4, 128),  # ~0.3 M parameters + embeddings; a CPU demo in minutes
    "small": (3, 128, 4, 512),
    "medium": (4, 256, 8, 1024),
    "base": (6, 512, 8, 2048),  # Vaswani et al. (2017), table 3 "base"
}


@dataclasses.dataclass
class ModelConfig:
    """Everything `build_translator_model` needs; saved as JSON next to the model."""

    vocabulary_size: int
    max_length: int = 32  # tokens per side, start/end tokens included
    num_layers: int = 3
    hidden_dim: int = 128
    num_heads: int = 4
    intermediate_dim: int = 512
    dropout_rate: float = 0.1
    norm_first: bool = True
    share_embeddings: bool = True  # one token table for source and target (joint vocabulary)
    tie_weights: bool = True  # the output projection reuses the target token table
    label_smoothing: float = 0.1
    warmup_steps: int = 4000

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, config):
        return cls(**config)


def model_config(size="small", vocabulary_size=8000, num_layers=None, hidden_dim=None,
                 num_heads=None, intermediate_dim=None, **options):
    """A `ModelConfig` for a named size; any dimension given overrides the size's.

    >>> config = model_config("tiny", vocabulary_size=100, hidden_dim=32)
    >>> config.num_layers, config.hidden_dim, config.num_heads, config.intermediate_dim
    (1, 32, 4, 128)
    """
    if size not in SIZES:
        raise ValueError(f"Unknown size. Choose from {sorted(SIZES)}. Received: size={size!r}")
    defaults = dict(zip(("num_layers", "hidden_dim", "num_heads", "intermediate_dim"), SIZES[size]))
    overrides = dict(num_layers=num_layers, hidden_dim=hidden_dim, num_heads=num_heads,
                     intermediate_dim=intermediate_dim)
    defaults.update({name: value for name, value in overrides.items() if value is not None})
    if defaults["hidden_dim"] % defaults["num_heads"]:
        raise ValueError(
            "`hidden_dim` must be divisible by `num_heads`. Received: "
            f"hidden_dim={defaults['hidden_dim']}, num_heads={defaults['num_heads']}"
        )
    return ModelConfig(vocabulary_size=vocabulary_size, **defaults, **options)
