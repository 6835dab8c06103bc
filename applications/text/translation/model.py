"""The encoder-decoder Transformer of "Attention Is All You Need", built from `keras_attn` blocks.

`build_translator_model(config)` returns a functional `keras.Model`
`{"encoder_token_ids": (B, S), "decoder_token_ids": (B, T)} -> logits (B, T, V)`.
Padding is id 0: the embeddings carry the Keras implicit mask `ids != 0`, the
encoder's self-attention and the decoder's cross-attention skip source padding,
and the decoder's self-attention is causal and skips target padding (all masks
come from `keras_attn.masking`). Its layers have fixed names, so `Translator`
can run the encoder once and the decoder step by step with its caches.
"""

import keras

from keras_attn.layers import TokenAndPositionEmbedding, TransformerDecoder, TransformerEncoder

ENCODER_EMBEDDING, DECODER_EMBEDDING = "encoder_embedding", "decoder_embedding"
ENCODER, DECODER = "encoder", "decoder"


def build_translator_model(config):
    """A functional encoder-decoder model for a `sizes.ModelConfig`.

    >>> from applications.text.translation.sizes import model_config
    >>> model = build_translator_model(model_config("tiny", vocabulary_size=50, max_length=8))
    >>> import numpy as np
    >>> ids = np.array([[5, 6, 3, 0, 0, 0, 0, 0]])
    >>> model({"encoder_token_ids": ids, "decoder_token_ids": ids}).shape
    TensorShape([1, 8, 50])
    """
    encoder_ids = keras.Input((None,), dtype="int32", name="encoder_token_ids")
    decoder_ids = keras.Input((None,), dtype="int32", name="decoder_token_ids")

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
