"""Named translator sizes (the skeleton's `SizeTable`) and `ModelConfig`, the architecture a
run records.

`"base"` is the base model of "Attention Is All You Need" (6 layers, width 512, 8 heads,
2048 feed-forward); `"tiny"` is what `make demo` trains on a CPU in about a minute.

Example:

>>> SIZES.decode("tiny", hidden_dim=32)
{'num_layers': 2, 'hidden_dim': 32, 'num_heads': 4, 'intermediate_dim': 128}
>>> config = model_config("tiny", vocabulary_size=100, max_length=16)
>>> config.num_layers, config.hidden_dim, config.max_length
(2, 64, 16)
"""

import dataclasses

from applications.skeleton.sizes import SizeTable

SIZES = SizeTable(
    "translation",
    {
        "tiny": dict(num_layers=2, hidden_dim=64, num_heads=4, intermediate_dim=128),
        "small": dict(num_layers=3, hidden_dim=128, num_heads=4, intermediate_dim=512),
        "medium": dict(num_layers=4, hidden_dim=256, num_heads=8, intermediate_dim=1024),
        "base": dict(num_layers=6, hidden_dim=512, num_heads=8, intermediate_dim=2048),
    },
    default="tiny",
    notes={"tiny": "the default: make demo's model", "base": "Vaswani et al. (2017), table 3"},
)


@dataclasses.dataclass
class ModelConfig:
    """Everything `build_translator_model` needs; recorded as the run's `model_config`."""

    vocabulary_size: int
    max_length: int = 32  # tokens per side, start/end tokens included
    num_layers: int = 2
    hidden_dim: int = 64
    num_heads: int = 4
    intermediate_dim: int = 128
    dropout_rate: float = 0.1
    norm_first: bool = True
    share_embeddings: bool = True  # one token table for source and target (joint vocabulary)
    tie_weights: bool = True  # the output projection reuses the target token table

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, config):
        """A config from a dict; keys of other versions (keras-attn 0.1's training keys) are ignored."""
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in config.items() if key in names})


def model_config(size=None, vocabulary_size=8000, num_layers=None, hidden_dim=None, num_heads=None,
                 intermediate_dim=None, **options):
    """A `ModelConfig` for a named size; any dimension given overrides the size's."""
    dimensions = SIZES.decode(size, num_layers=num_layers, hidden_dim=hidden_dim, num_heads=num_heads,
                              intermediate_dim=intermediate_dim)
    return ModelConfig(vocabulary_size=vocabulary_size, **dimensions, **options)
