"""Token embedding plus learned position embedding, reversible to vocabulary logits."""

import keras
from keras import ops

from keras_attn.layers.position_embedding import PositionEmbedding


def _clone(initializer):
    """A fresh initializer per sublayer, so sublayers do not share random state."""
    return initializer.__class__.from_config(initializer.get_config())


def _is_floating(tensor):
    return "float" in keras.backend.standardize_dtype(tensor.dtype)


@keras.saving.register_keras_serializable(package="keras_attn")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Token embedding plus a learned position embedding.

    `token_embedding` is a `keras.layers.ReversibleEmbedding`, so the same table
    can turn decoder outputs back into vocabulary logits: `reverse=True` (or
    `project_to_vocabulary(hidden)`) computes `hidden @ embeddings^T` when
    `tie_weights=True` (the default, as in keras_hub), or uses a separate
    trainable `(embedding_dim, vocabulary_size)` matrix when `tie_weights=False`.
    Call the layer itself for the reverse path (not `token_embedding`), so a
    functional model shares one layer and its weights stay tied after saving and
    loading.

    Args:
        vocabulary_size: number of token ids.
        sequence_length: the longest input (size of the position table).
        embedding_dim: size of each embedding.
        mask_zero: id `0` is padding: the output carries the Keras implicit
            mask `ids != 0`, which downstream layers (attention) read.
            Defaults to `True`.
        tie_weights: whether the reverse projection reuses the token table.
            Defaults to `True`.
        embeddings_initializer: initializer of both tables. Defaults to `"uniform"`.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: integer ids `(batch, T)` with `start_index + T <= sequence_length`;
            with `reverse=True`, hidden states `(batch, T, embedding_dim)`.
        start_index: int or scalar integer tensor, the position of the first id
            (for cached decoding). Defaults to `0`.
        reverse: project hidden states to logits instead of embedding ids.
        positions: instead of `start_index`, the position of every id,
            `(T,)` or `(batch, T)` (as keras-hub's layer; see
            `PositionEmbedding`).

    Returns:
        `(batch, T, embedding_dim)` embeddings, or `(batch, T, vocabulary_size)`
        logits with `reverse=True`.

    Masking: the forward path sets the mask `ids != 0` when `mask_zero`; the
    reverse path passes the hidden states' mask through to the logits.

    Example:

    >>> import numpy as np
    >>> layer = TokenAndPositionEmbedding(vocabulary_size=10, sequence_length=4, embedding_dim=3)
    >>> ids = np.array([[5, 2, 0, 0]])
    >>> embedded = layer(ids)
    >>> embedded.shape, np.asarray(layer.compute_mask(ids)).tolist()
    (TensorShape([1, 4, 3]), [[True, True, False, False]])
    >>> layer.project_to_vocabulary(embedded).shape
    TensorShape([1, 4, 10])
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        embedding_dim,
        mask_zero=True,
        tie_weights=True,
        embeddings_initializer="uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (
            ("vocabulary_size", vocabulary_size),
            ("sequence_length", sequence_length),
            ("embedding_dim", embedding_dim),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive int. Received: {name}={value}")
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self.embedding_dim = embedding_dim
        self.mask_zero = mask_zero
        self.tie_weights = tie_weights
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.token_embedding = keras.layers.ReversibleEmbedding(
            vocabulary_size,
            embedding_dim,
            tie_weights=tie_weights,
            embeddings_initializer=_clone(self.embeddings_initializer),
            mask_zero=mask_zero,
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        self.position_embedding = PositionEmbedding(
            sequence_length,
            initializer=_clone(self.embeddings_initializer),
            dtype=self.dtype_policy,
            name="position_embedding",
        )
        self.supports_masking = True

    def build(self, inputs_shape=None):
        # The tables do not depend on the input shape (ids, or hidden states on
        # the reverse path).
        self.token_embedding.build((None, None))
        self.position_embedding.build((None, self.sequence_length, self.embedding_dim))
        self.built = True

    def call(self, inputs, start_index=0, reverse=False, positions=None):
        if reverse:
            # (B, T, V). Keras computes these with the float32 table; return the
            # compute dtype, as the output spec says.
            return ops.cast(self.token_embedding(inputs, reverse=True), self.compute_dtype)
        if _is_floating(inputs):
            raise ValueError(
                "`inputs` must be integer token ids (or use reverse=True for hidden states). "
                f"Received: inputs.dtype={inputs.dtype}"
            )
        length = inputs.shape[-1]
        if isinstance(length, int) and isinstance(start_index, int) and start_index + length > self.sequence_length:
            raise ValueError(
                f"The token ids are longer than sequence_length={self.sequence_length}. "
                f"Received: inputs.shape={tuple(inputs.shape)}, start_index={start_index}"
            )
        tokens = self.token_embedding(inputs)  # (B, T, D)
        return tokens + self.position_embedding(tokens, start_index=start_index, positions=positions)  # (B, T, D)

    def project_to_vocabulary(self, hidden):
        """Logits `(batch, T, vocabulary_size)` from hidden states `(batch, T, embedding_dim)`.

        The same as calling the layer with `reverse=True`.
        """
        return self(hidden, reverse=True)

    def compute_mask(self, inputs, mask=None):
        if _is_floating(inputs):
            return mask  # reverse path: keep the hidden states' mask
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape) + (self.embedding_dim,)

    def compute_output_spec(self, inputs, start_index=0, reverse=False, positions=None):
        if reverse:
            shape = tuple(inputs.shape[:-1]) + (self.vocabulary_size,)
        else:
            shape = self.compute_output_shape(inputs.shape)
        return keras.KerasTensor(shape, dtype=self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length,
                "embedding_dim": self.embedding_dim,
                "mask_zero": self.mask_zero,
                "tie_weights": self.tie_weights,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
            }
        )
        return config
