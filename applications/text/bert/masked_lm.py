"""`MaskedLMHead` and `BertMaskedLM`: BERT's masked-language-model objective."""

import keras
from keras import ops

from applications.skeleton.serialization import deserialize_sublayers
from applications.text.bert.activations import get_activation
from applications.text.bert.bert_encoder import INPUT_NAMES, BertEncoder, bert_initializer


@keras.saving.register_keras_serializable(package="applications.text.bert")
class MaskedLMHead(keras.layers.Layer):
    """BERT's masked-LM head: the encoder outputs at the chosen positions -> dense + activation
    -> layer norm -> logits through the (tied) token table, plus a bias per token.

    Args:
        vocabulary_size: the logits' width.
        activation: a name of `activations.ACTIVATIONS`.
        layer_norm_epsilon: of the layer norm.
        token_embedding: the encoder's `ReversibleEmbedding`, whose table gives the logits
            (`hidden @ table^T`). Not part of the config: the model that owns the head passes it
            (as keras-hub's `MaskedLMHead`).
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        sequence: `(batch, length, hidden_dim)` encoder outputs.
        mask_positions: `(batch, max_predictions)` int positions to predict.

    Returns:
        `(batch, max_predictions, vocabulary_size)` float32 logits.

    Example:

    >>> import numpy as np
    >>> table = keras.layers.ReversibleEmbedding(10, 4)
    >>> table.build((None, None))
    >>> head = MaskedLMHead(10, token_embedding=table)
    >>> head(np.ones((2, 5, 4), "float32"), np.array([[1, 3], [0, 0]])).shape
    TensorShape([2, 2, 10])
    """

    def __init__(self, vocabulary_size, activation="gelu_approximate", layer_norm_epsilon=1e-12, token_embedding=None,
                 **kwargs):
        super().__init__(**kwargs)
        if not isinstance(vocabulary_size, int) or vocabulary_size < 1:
            raise ValueError(f"`vocabulary_size` must be a positive int. Received: vocabulary_size={vocabulary_size}")
        if token_embedding is None:
            raise ValueError("`token_embedding` (the encoder's token table) is required. Received: token_embedding=None")
        self.vocabulary_size = vocabulary_size
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.token_embedding = token_embedding

    def build(self, sequence_shape, mask_positions_shape=None):
        hidden_dim = sequence_shape[-1]
        self.dense = keras.layers.Dense(hidden_dim, activation=get_activation(self.activation),
                                        kernel_initializer=bert_initializer(), dtype=self.dtype_policy, name="dense")
        self.dense.build((None, None, hidden_dim))
        self.layer_norm = keras.layers.LayerNormalization(epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy,
                                                          name="layer_norm")
        self.layer_norm.build((None, None, hidden_dim))
        self.bias = self.add_weight(shape=(self.vocabulary_size,), initializer="zeros", name="output_bias")
        self.built = True

    def call(self, sequence, mask_positions):
        positions = ops.expand_dims(ops.cast(mask_positions, "int32"), -1)  # (B, P, 1)
        hidden = ops.take_along_axis(sequence, positions, axis=1)  # (B, P, H)
        hidden = self.layer_norm(self.dense(hidden))  # (B, P, H)
        logits = self.token_embedding(hidden, reverse=True)  # (B, P, V)
        return ops.cast(logits, "float32") + ops.cast(self.bias, "float32")

    def compute_output_shape(self, sequence_shape, mask_positions_shape=None):
        return (sequence_shape[0], None if mask_positions_shape is None else mask_positions_shape[1],
                self.vocabulary_size)

    def compute_output_spec(self, sequence, mask_positions):
        return keras.KerasTensor((sequence.shape[0], mask_positions.shape[1], self.vocabulary_size), dtype="float32")

    def get_config(self):
        config = super().get_config()
        config.update({"vocabulary_size": self.vocabulary_size, "activation": self.activation,
                       "layer_norm_epsilon": self.layer_norm_epsilon})
        return config


@keras.saving.register_keras_serializable(package="applications.text.bert")
class BertMaskedLM(keras.Model):
    """A `BertEncoder` with the masked-LM head (the model `keras-attn bert pretrain` trains).

    Args:
        encoder: a `BertEncoder`.
        **kwargs: `keras.Model` arguments.

    Call arguments:
        inputs: the encoder's dict plus `mask_positions`, `(batch, max_predictions)` ints.

    Returns:
        `(batch, max_predictions, vocabulary_size)` float32 logits at the chosen positions.

    Example:

    >>> import numpy as np
    >>> encoder = BertEncoder(vocabulary_size=20, num_layers=1, hidden_dim=8, num_heads=2,
    ...                       intermediate_dim=16, max_sequence_length=6)
    >>> model = BertMaskedLM(encoder)
    >>> inputs = {"token_ids": np.array([[2, 4, 9, 3, 0, 0]]), "segment_ids": np.zeros((1, 6), "int32"),
    ...           "padding_mask": np.array([[1, 1, 1, 1, 0, 0]]), "mask_positions": np.array([[1, 0]])}
    >>> model(inputs).shape
    TensorShape([1, 2, 20])
    """

    def __init__(self, encoder, **kwargs):
        if not isinstance(encoder, BertEncoder):
            raise ValueError(f"`encoder` must be a BertEncoder. Received: encoder={encoder!r}")
        head = MaskedLMHead(encoder.vocabulary_size, activation=encoder.activation,
                            layer_norm_epsilon=encoder.layer_norm_epsilon, token_embedding=encoder.token_embedding,
                            name="masked_lm_head")
        inputs = {name: keras.Input((None,), dtype="int32", name=name) for name in (*INPUT_NAMES, "mask_positions")}
        sequence = encoder({name: inputs[name] for name in INPUT_NAMES})  # (B, T, H)
        logits = head(sequence, inputs["mask_positions"])  # (B, P, V)
        super().__init__(inputs=inputs, outputs=logits, **kwargs)
        self.encoder = encoder

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "encoder": keras.saving.serialize_keras_object(self.encoder)}

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("encoder",)))
