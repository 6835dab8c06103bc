"""The translation models: `build_translator_model(config)` builds `config.architecture`.

Every architecture is a functional `keras.Model`
`{"encoder_token_ids": (B, S), "decoder_token_ids": (B, T)} -> logits (B, T, V)`, trained
teacher-forced with the same loss and data, with fixed layer names so that its `Decoding`
(`applications/text/translation/decoding.py`) can run the encoder once and the decoder step
by step:

- `"transformer"` (this module): the encoder-decoder Transformer of "Attention Is All You
  Need", built from `keras_attn` blocks;
- `"t5"` (`t5.py`): the same stacks with T5's options (RMS norms, no biases, relative
  position bias, gated GELU);
- `"rnn"` (`rnn.py`): a bidirectional GRU/LSTM encoder and a recurrent decoder with
  Bahdanau's additive attention at every step.

Padding is id 0: the embeddings carry the Keras implicit mask `ids != 0`, the encoder skips
source padding, and so does the decoder's attention over the encoder (all masks come from
`keras_attn.masking`); the Transformer decoders are causal.
"""

import keras

from applications.text.translation.decoding import (
    DECODER, DECODER_EMBEDDING, ENCODER, ENCODER_EMBEDDING, StackDecoding,
)
from keras_attn.layers import TokenAndPositionEmbedding, TransformerDecoder, TransformerEncoder


def build_translator_model(config):
    """The functional model of a `sizes.ModelConfig` (its `architecture`: transformer, t5 or rnn).

    >>> from applications.text.translation.sizes import model_config
    >>> import numpy as np
    >>> ids = np.array([[5, 6, 3, 0, 0, 0, 0, 0]])
    >>> for architecture in ("transformer", "t5", "rnn"):
    ...     config = model_config("tiny", vocabulary_size=50, max_length=8, architecture=architecture)
    ...     print(architecture, build_translator_model(config)({"encoder_token_ids": ids,
    ...                                                         "decoder_token_ids": ids}).shape)
    transformer (1, 8, 50)
    t5 (1, 8, 50)
    rnn (1, 8, 50)
    """
    if config.architecture == "t5":
        from applications.text.translation.t5 import build_t5_model

        return build_t5_model(config)
    if config.architecture == "rnn":
        from applications.text.translation.rnn import build_rnn_model

        return build_rnn_model(config)
    return build_transformer_model(config)


def model_inputs():
    """The two int32 inputs every translation model takes."""
    return (keras.Input((None,), dtype="int32", name="encoder_token_ids"),
            keras.Input((None,), dtype="int32", name="decoder_token_ids"))


def build_transformer_model(config):
    """The encoder-decoder Transformer of a `ModelConfig`."""
    encoder_ids, decoder_ids = model_inputs()

    def embedding(name):
        return TokenAndPositionEmbedding(
            config.vocabulary_size, config.max_length, config.hidden_dim,
            mask_zero=True, tie_weights=config.tie_weights, name=name,
        )

    stack_args = dict(
        num_layers=config.num_layers, num_heads=config.num_heads, intermediate_dim=config.intermediate_dim,
        dropout_rate=config.dropout_rate, norm_first=config.norm_first,
    )
    decoder_embedding = embedding(DECODER_EMBEDDING)
    encoder_embedding = decoder_embedding if config.share_embeddings else embedding(ENCODER_EMBEDDING)

    # Encoder: (B, S) ids -> (B, S, C), source padding masked in self-attention.
    source = encoder_embedding(encoder_ids)
    source = keras.layers.Dropout(config.dropout_rate, name="encoder_embedding_dropout")(source)
    encoded = TransformerEncoder(**stack_args, name=ENCODER)(source)

    # Decoder: (B, T) ids -> (B, T, C), causal self-attention, cross-attention to the encoder.
    target = decoder_embedding(decoder_ids)
    target = keras.layers.Dropout(config.dropout_rate, name="decoder_embedding_dropout")(target)
    decoded = TransformerDecoder(**stack_args, name=DECODER)(target, encoded)

    # (B, T, V) logits through the (tied) target token table.
    logits = decoder_embedding(decoded, reverse=True)
    return keras.Model({"encoder_token_ids": encoder_ids, "decoder_token_ids": decoder_ids}, logits,
                       name="translator")


class TransformerDecoding(StackDecoding):
    """Learned absolute positions: the step's position is the cache index."""

    def embed_source(self, source_ids):
        return self.encoder_embedding(source_ids)

    def embed_target(self, token_ids, index):
        return self.decoder_embedding(token_ids, start_index=index)

    def logits(self, decoded):
        return self.decoder_embedding(decoded, reverse=True)
