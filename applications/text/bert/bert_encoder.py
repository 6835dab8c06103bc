"""`BertEncoder`: BERT's backbone, token ids in, one vector per token out."""

import keras

from applications.text.bert.activations import ACTIVATIONS, get_activation
from keras_attn.layers import TokenAndPositionEmbedding, TransformerEncoder

INPUT_NAMES = ("token_ids", "segment_ids", "padding_mask")


def bert_initializer():
    """BERT's initializer of every kernel and table: truncated normal, standard deviation 0.02."""
    return keras.initializers.TruncatedNormal(stddev=0.02)


@keras.saving.register_keras_serializable(package="applications.text.bert")
class BertEncoder(keras.Model):
    """The BERT encoder (Devlin et al. 2019), a functional model like keras-hub's `BertBackbone`.

    Token, learned position and segment embeddings are summed, layer-normalised and dropped
    out, then `num_layers` `keras_attn.layers.TransformerEncoder` blocks encode them:
    post-norm as in BERT (`norm_first=False`: `norm(x + drop(sublayer(x)))`), or pre-norm with
    a final layer norm (`norm_first=True`). The feed-forward activation is BERT's tanh GELU.
    Dropout (`dropout_rate`) acts on the embeddings, the attention weights, each residual
    branch and the feed-forward hidden layer.

    The input dict is keras-hub's, so a converted keras-hub backbone
    (`from_keras_hub_bert`) takes the same tensors.

    Args:
        vocabulary_size: token ids.
        num_layers, hidden_dim, num_heads, intermediate_dim: the sizes (`sizes.SIZES`).
        max_sequence_length: positions of the position table (the longest input).
        num_segments: segment ids (2: sentence A and sentence B).
        dropout_rate: see above.
        norm_first: pre-norm blocks instead of BERT's post-norm.
        activation: `"gelu_approximate"` (BERT), `"gelu"` or `"relu"`.
        layer_norm_epsilon: 1e-12 as in BERT.
        **kwargs: `keras.Model` arguments (`name`, `trainable`).

    Call arguments:
        inputs: a dict of `(batch, length)` int tensors: `token_ids`, `segment_ids` and
            `padding_mask` (1 on real tokens, 0 on padding).
        training: enables dropout.

    Returns:
        `(batch, length, hidden_dim)`, the sequence output. Padded positions never influence
        real ones (the padding mask reaches every attention layer through `keras_attn.masking`);
        their own outputs are meaningless.

    References:
        Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional Transformers for Language
        Understanding" (https://arxiv.org/abs/1810.04805).

    Example:

    >>> import numpy as np
    >>> encoder = BertEncoder(vocabulary_size=20, num_layers=1, hidden_dim=8, num_heads=2,
    ...                       intermediate_dim=16, max_sequence_length=6)
    >>> inputs = {"token_ids": np.array([[2, 7, 9, 3, 0, 0]]), "segment_ids": np.zeros((1, 6), "int32"),
    ...           "padding_mask": np.array([[1, 1, 1, 1, 0, 0]])}
    >>> encoder(inputs).shape
    TensorShape([1, 6, 8])
    """

    def __init__(self, vocabulary_size, num_layers, hidden_dim, num_heads, intermediate_dim,
                 max_sequence_length=512, num_segments=2, dropout_rate=0.1, norm_first=False,
                 activation="gelu_approximate", layer_norm_epsilon=1e-12, **kwargs):
        for name, value in (("vocabulary_size", vocabulary_size), ("num_layers", num_layers),
                            ("hidden_dim", hidden_dim), ("num_heads", num_heads),
                            ("intermediate_dim", intermediate_dim), ("max_sequence_length", max_sequence_length),
                            ("num_segments", num_segments)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}")
        if not 0.0 <= dropout_rate < 1.0:
            raise ValueError(f"`dropout_rate` must be in [0, 1). Received: dropout_rate={dropout_rate}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"`activation` must be one of {ACTIVATIONS}. Received: activation={activation!r}")
        # === Layers ===
        embedding = TokenAndPositionEmbedding(
            vocabulary_size, max_sequence_length, hidden_dim, mask_zero=False, tie_weights=True,
            embeddings_initializer=bert_initializer(), name="token_and_position_embedding",
        )
        segment_embedding = keras.layers.Embedding(num_segments, hidden_dim, embeddings_initializer=bert_initializer(),
                                                   name="segment_embedding")
        embeddings_norm = keras.layers.LayerNormalization(epsilon=layer_norm_epsilon, name="embeddings_layer_norm")
        embeddings_dropout = keras.layers.Dropout(dropout_rate, name="embeddings_dropout")
        transformer = TransformerEncoder(
            num_layers=num_layers, num_heads=num_heads, intermediate_dim=intermediate_dim,
            dropout_rate=dropout_rate, attention_dropout_rate=dropout_rate, activation=get_activation(activation),
            norm_first=norm_first, layer_norm_epsilon=layer_norm_epsilon, kernel_initializer=bert_initializer(),
            name="transformer",
        )
        # === Functional model ===
        inputs = {name: keras.Input((None,), dtype="int32", name=name) for name in INPUT_NAMES}
        x = keras.layers.Add(name="embeddings_add")(
            [embedding(inputs["token_ids"]), segment_embedding(inputs["segment_ids"])]
        )  # (B, T, H): tokens + positions + segments
        x = embeddings_dropout(embeddings_norm(x))
        sequence = transformer(x, padding_mask=inputs["padding_mask"])  # (B, T, H)
        super().__init__(inputs=inputs, outputs=sequence, **kwargs)
        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.max_sequence_length = max_sequence_length
        self.num_segments = num_segments
        self.dropout_rate = dropout_rate
        self.norm_first = norm_first
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon

    @property
    def embedding(self):
        """The `TokenAndPositionEmbedding` (its token table is also the MLM output)."""
        return self.get_layer("token_and_position_embedding")

    @property
    def token_embedding(self):
        return self.embedding.token_embedding

    @property
    def transformer(self):
        return self.get_layer("transformer")

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "vocabulary_size": self.vocabulary_size,
            "num_layers": self.num_layers,
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "max_sequence_length": self.max_sequence_length,
            "num_segments": self.num_segments,
            "dropout_rate": self.dropout_rate,
            "norm_first": self.norm_first,
            "activation": self.activation,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
