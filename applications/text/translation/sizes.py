"""Named translator sizes (the skeleton's `SizeTable`) and `ModelConfig`, the architecture a
run records.

`"base"` is the base model of "Attention Is All You Need" (6 layers, width 512, 8 heads,
2048 feed-forward); `"tiny"` is what `make demo` trains on a CPU in about a minute.

One table sizes the three architectures (`--architecture`):

- `transformer`: `num_layers` encoder blocks and as many decoder blocks of width
  `hidden_dim`, `num_heads` heads, feed-forward `intermediate_dim`.
- `t5`: the same dimensions with T5's options (`applications/text/translation/t5.py`): the
  feed-forward is gated (three `hidden_dim x intermediate_dim` matrices instead of two, and
  no biases), so at equal dimensions it has about a tenth more parameters than the
  Transformer at the `tiny` size.
- `rnn`: `hidden_dim` is the embedding width and the units of every recurrent layer and of
  the additive attention; `num_layers` bidirectional recurrent layers encode (their states
  are `2 * hidden_dim` wide), one recurrent layer decodes; `num_heads` and
  `intermediate_dim` are not used (`applications/text/translation/rnn.py`).

Example:

>>> SIZES.decode("tiny", hidden_dim=32)
{'num_layers': 2, 'hidden_dim': 32, 'num_heads': 4, 'intermediate_dim': 128}
>>> config = model_config("tiny", vocabulary_size=100, max_length=16)
>>> config.num_layers, config.hidden_dim, config.max_length
(2, 64, 16)
"""

import dataclasses

from applications.skeleton.sizes import SizeTable

ARCHITECTURES = ("transformer", "t5", "rnn")
RNN_CELLS = ("gru", "lstm")

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
    architecture: str = "transformer"  # one of ARCHITECTURES
    rnn_cell: str = "gru"  # the rnn architecture's recurrent cell, one of RNN_CELLS

    def __post_init__(self):
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"`architecture` must be one of {ARCHITECTURES}. Received: architecture={self.architecture!r}"
            )
        if self.rnn_cell not in RNN_CELLS:
            raise ValueError(f"`rnn_cell` must be one of {RNN_CELLS}. Received: rnn_cell={self.rnn_cell!r}")

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, config):
        """A config from a dict; keys of other versions (keras-attn 0.1's training keys) are ignored,
        and a config without `architecture` (written before there were three) is a Transformer."""
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in config.items() if key in names})


def model_config(size=None, vocabulary_size=8000, num_layers=None, hidden_dim=None, num_heads=None,
                 intermediate_dim=None, **options):
    """A `ModelConfig` for a named size; any dimension given overrides the size's."""
    dimensions = SIZES.decode(size, num_layers=num_layers, hidden_dim=hidden_dim, num_heads=num_heads,
                              intermediate_dim=intermediate_dim)
    return ModelConfig(vocabulary_size=vocabulary_size, **dimensions, **options)
