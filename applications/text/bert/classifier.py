"""`BertPooler` and `BertClassifier`: a text classifier on BERT's `[CLS]` output."""

import keras

from applications.skeleton.serialization import deserialize_sublayers
from applications.text.bert.bert_encoder import INPUT_NAMES, BertEncoder, bert_initializer


@keras.saving.register_keras_serializable(package="applications.text.bert")
class BertPooler(keras.layers.Layer):
    """BERT's pooler: `tanh(W h_[CLS] + b)`, the first token's output through a dense layer.

    Args:
        hidden_dim: the output width (the encoder's width in BERT).
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        sequence: `(batch, length, width)`; position 0 holds `[CLS]`.

    Returns:
        `(batch, hidden_dim)`.

    Example:

    >>> import numpy as np
    >>> BertPooler(4)(np.ones((2, 3, 8), "float32")).shape
    TensorShape([2, 4])
    """

    def __init__(self, hidden_dim, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(hidden_dim, int) or hidden_dim < 1:
            raise ValueError(f"`hidden_dim` must be a positive int. Received: hidden_dim={hidden_dim}")
        self.hidden_dim = hidden_dim

    def build(self, sequence_shape):
        self.dense = keras.layers.Dense(self.hidden_dim, activation="tanh", kernel_initializer=bert_initializer(),
                                        dtype=self.dtype_policy, name="pooled_dense")
        self.dense.build((None, sequence_shape[-1]))
        self.built = True

    def call(self, sequence):
        return self.dense(sequence[:, 0, :])  # (B, H)

    def compute_output_shape(self, sequence_shape):
        return (sequence_shape[0], self.hidden_dim)

    def get_config(self):
        config = super().get_config()
        config.update({"hidden_dim": self.hidden_dim})
        return config


@keras.saving.register_keras_serializable(package="applications.text.bert")
class BertClassifier(keras.Model):
    """Text classifier: `BertEncoder` -> `BertPooler` on `[CLS]` -> dropout -> dense logits.

    A functional model (keras-hub task style) whose config holds the encoder, the class names
    and whether inputs are sentence pairs, so its `.keras` file and the run's vocabulary are all
    `predict` needs. Logits are float32 under mixed precision.

    Args:
        encoder: a `BertEncoder`.
        num_classes: number of classes.
        dropout_rate: dropout on the pooled output (0.1 in BERT).
        class_names: `num_classes` label strings (default `"0"`, `"1"`, ...).
        text_pairs: whether the model reads `text_a<TAB>text_b` pairs (segment ids 0 and 1).
        **kwargs: `keras.Model` arguments.

    Call arguments:
        inputs: the encoder's input dict.

    Returns:
        `(batch, num_classes)` logits.

    Example:

    >>> import numpy as np
    >>> encoder = BertEncoder(vocabulary_size=20, num_layers=1, hidden_dim=8, num_heads=2,
    ...                       intermediate_dim=16, max_sequence_length=6)
    >>> model = BertClassifier(encoder, num_classes=3, class_names=["a", "b", "c"])
    >>> inputs = {"token_ids": np.array([[2, 7, 3, 0, 0, 0]]), "segment_ids": np.zeros((1, 6), "int32"),
    ...           "padding_mask": np.array([[1, 1, 1, 0, 0, 0]])}
    >>> model(inputs).shape
    TensorShape([1, 3])
    """

    def __init__(self, encoder, num_classes, dropout_rate=0.1, class_names=None, text_pairs=False, **kwargs):
        if not isinstance(encoder, BertEncoder):
            raise ValueError(f"`encoder` must be a BertEncoder. Received: encoder={encoder!r}")
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"`num_classes` must be an int >= 2. Received: num_classes={num_classes}")
        if not 0.0 <= dropout_rate < 1.0:
            raise ValueError(f"`dropout_rate` must be in [0, 1). Received: dropout_rate={dropout_rate}")
        class_names = [str(i) for i in range(num_classes)] if class_names is None else [str(n) for n in class_names]
        if len(class_names) != num_classes:
            raise ValueError("`class_names` must have `num_classes` entries. "
                             f"Received: num_classes={num_classes}, len(class_names)={len(class_names)}")
        # === Layers ===
        pooler = BertPooler(encoder.hidden_dim, name="pooler")
        dropout = keras.layers.Dropout(dropout_rate, name="classifier_dropout")
        head = keras.layers.Dense(num_classes, kernel_initializer=bert_initializer(), dtype="float32", name="logits")
        # === Functional model ===
        inputs = {name: keras.Input((None,), dtype="int32", name=name) for name in INPUT_NAMES}
        logits = head(dropout(pooler(encoder(inputs))))  # (B, num_classes)
        super().__init__(inputs=inputs, outputs=logits, **kwargs)
        # === Config ===
        self.encoder = encoder
        self.num_classes = num_classes
        self.dropout_rate = dropout_rate
        self.class_names = class_names
        self.text_pairs = bool(text_pairs)

    @property
    def pooler(self):
        return self.get_layer("pooler")

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "num_classes": self.num_classes,
            "dropout_rate": self.dropout_rate,
            "class_names": list(self.class_names),
            "text_pairs": self.text_pairs,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("encoder",)))
