"""The GPT model: token embedding, learned or rotary positions, pre-norm decoder-only blocks.

`build_gpt_model(config)` returns a functional `keras.Model` `token_ids (B, T) -> logits
(B, T, V)` made of `keras_attn` layers only:

- `embedding`: `TokenAndPositionEmbedding` (learned positions, `positions="learned"`) or a
  `keras.layers.ReversibleEmbedding` (`positions="rotary"`: the blocks rotate queries and
  keys instead); its reverse projection gives the logits, through the token table itself
  by default (tied, as GPT-2) or a matrix of its own (`tie_weights=False`);
- `embedding_dropout`, then `decoder`: a `TransformerDecoder` without cross-attention,
  pre-norm blocks with a causal self-attention, and the final norm.

There is no padding mask: attention is causal only, so a row's padding (always after its
tokens) never changes the logits before it. The layers have fixed names, so
`applications.text.gpt.generator.Generator` can run the embedding and the decoder step by
step over the decoder's key/value cache.

Example:

>>> import numpy as np
>>> model = build_gpt_model(GPTConfig(vocabulary_size=20, sequence_length=8, num_layers=1, hidden_dim=16,
...                                   num_heads=2, intermediate_dim=32))
>>> model(np.ones((2, 5), "int32")).shape
TensorShape([2, 5, 20])
"""

import dataclasses

POSITIONS = ("learned", "rotary")
EMBEDDING, EMBEDDING_DROPOUT, DECODER = "embedding", "embedding_dropout", "decoder"


@dataclasses.dataclass
class GPTConfig:
    """The architecture of a GPT model (recorded in `run.json` under `model_config`).

    Attributes:
        vocabulary_size: token ids.
        sequence_length: the context: the most tokens the model reads (its position table).
        num_layers, hidden_dim, num_heads, intermediate_dim: the blocks' sizes.
        dropout_rate: after the embedding and on each residual branch.
        positions: `"learned"` (a position table, GPT-2) or `"rotary"` (RoPE in every block).
        tie_weights: the logits reuse the token table.
        activation: the feed-forward activation (`"gelu"`, or `"gelu_approximate"`: GPT-2's).
        layer_norm_epsilon: of every norm.
        use_bias: biases in the attention and feed-forward projections.
        rotary_max_wavelength: RoPE's base, with `positions="rotary"`.
    """

    vocabulary_size: int
    sequence_length: int
    num_layers: int = 4
    hidden_dim: int = 128
    num_heads: int = 4
    intermediate_dim: int = 512
    dropout_rate: float = 0.0
    positions: str = "learned"
    tie_weights: bool = True
    activation: str = "gelu"
    layer_norm_epsilon: float = 1e-5
    use_bias: bool = True
    rotary_max_wavelength: int = 10000

    def __post_init__(self):
        if self.positions not in POSITIONS:
            raise ValueError(f"`positions` must be one of {POSITIONS}. Received: positions={self.positions!r}")

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in names})


def build_embedding(config):
    """The `embedding` layer of `config` (see the module doc)."""
    import keras

    from keras_attn.layers import TokenAndPositionEmbedding

    if config.positions == "learned":
        return TokenAndPositionEmbedding(config.vocabulary_size, config.sequence_length, config.hidden_dim,
                                         mask_zero=False, tie_weights=config.tie_weights, name=EMBEDDING)
    return keras.layers.ReversibleEmbedding(config.vocabulary_size, config.hidden_dim,
                                            tie_weights=config.tie_weights, name=EMBEDDING)


def build_gpt_model(config):
    """The functional GPT model of a `GPTConfig` (see the module doc)."""
    import keras

    from keras_attn.layers import TransformerDecoder

    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    embedding = build_embedding(config)
    x = embedding(token_ids)  # (B, T, C)
    x = keras.layers.Dropout(config.dropout_rate, name=EMBEDDING_DROPOUT)(x)
    x = TransformerDecoder(
        num_layers=config.num_layers, num_heads=config.num_heads, intermediate_dim=config.intermediate_dim,
        dropout_rate=config.dropout_rate, activation=config.activation, norm_first=True,
        layer_norm_epsilon=config.layer_norm_epsilon, use_bias=config.use_bias,
        rotary_max_wavelength=config.rotary_max_wavelength if config.positions == "rotary" else None,
        name=DECODER,
    )(x)  # (B, T, C): causal self-attention, final norm
    logits = embedding(x, reverse=True)  # (B, T, V)
    return keras.Model(token_ids, logits, name="gpt")
