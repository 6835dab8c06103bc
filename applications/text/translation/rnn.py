"""The RNN baseline (`--architecture rnn`): Bahdanau et al.'s attention-based encoder-decoder.

`build_rnn_model(config)`: `num_layers` bidirectional GRU (or LSTM, `rnn_cell`) layers of
`hidden_dim` units per direction read the source (states `2 * hidden_dim` wide, padding
skipped through the embedding's implicit mask), and a `BahdanauDecoder` of `hidden_dim`
units attends over them with additive attention at every step, its context fed into the
next step's input. Token tables are shared and tied as for the Transformer (`hidden_dim`
wide). Trained teacher-forced with `model.fit` like the other architectures; decoded by
`RecurrentDecoding` with the same searches, the recurrent state being the cache.
"""

import keras
from keras import ops

from applications.text.tokenizer import PAD_ID
from applications.text.translation.bahdanau_decoder import BahdanauDecoder
from applications.text.translation.decoding import DECODER, DECODER_EMBEDDING, ENCODER_EMBEDDING, Decoding

CELL_LAYERS = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}


def encoder_layer_name(index):
    return f"encoder_{index}"


def build_rnn_model(config):
    """The `rnn` translation model of a `ModelConfig` (see the module doc)."""
    from applications.text.translation.model import model_inputs

    encoder_ids, decoder_ids = model_inputs()

    def embedding(name):
        return keras.layers.ReversibleEmbedding(config.vocabulary_size, config.hidden_dim, mask_zero=True,
                                                tie_weights=config.tie_weights, name=name)

    decoder_embedding = embedding(DECODER_EMBEDDING)
    encoder_embedding = decoder_embedding if config.share_embeddings else embedding(ENCODER_EMBEDDING)

    # Encoder: (B, S) ids -> (B, S, 2 * hidden_dim), bidirectional, padding skipped.
    source = keras.layers.Dropout(config.dropout_rate, name="encoder_embedding_dropout")(encoder_embedding(encoder_ids))
    for index in range(config.num_layers):
        recurrent = CELL_LAYERS[config.rnn_cell](config.hidden_dim, return_sequences=True)
        source = keras.layers.Bidirectional(recurrent, name=encoder_layer_name(index))(source)

    # Decoder: (B, T) ids -> (B, T, hidden_dim), attending over the encoder states at every step.
    target = keras.layers.Dropout(config.dropout_rate, name="decoder_embedding_dropout")(decoder_embedding(decoder_ids))
    decoded = BahdanauDecoder(config.hidden_dim, cell=config.rnn_cell, output_dim=config.hidden_dim,
                              dropout_rate=config.dropout_rate, name=DECODER)(target, source)
    logits = decoder_embedding(decoded, reverse=True)  # (B, T, V)
    return keras.Model({"encoder_token_ids": encoder_ids, "decoder_token_ids": decoder_ids}, logits,
                       name="rnn_translator")


class RecurrentDecoding(Decoding):
    """The RNN's decoding: the encoder runs once, then `BahdanauDecoder.step` per token."""

    def __init__(self, model, config):
        super().__init__(model, config)
        self.decoder = model.get_layer(DECODER)
        self.decoder_embedding = model.get_layer(DECODER_EMBEDDING)
        self.encoder_embedding = self._layer(ENCODER_EMBEDDING, fallback=DECODER_EMBEDDING)
        self.encoder_layers = [model.get_layer(encoder_layer_name(i)) for i in range(config.num_layers)]

    def encode(self, source_ids):
        """`(B, S)` ids -> encoder states `(B, S, 2 * hidden_dim)` and the source padding mask."""
        padding_mask = ops.not_equal(source_ids, PAD_ID)
        x = self.encoder_embedding(source_ids)
        for layer in self.encoder_layers:
            x = layer(x, mask=padding_mask)
        return x, padding_mask

    def initial_cache(self, source_ids, max_length):
        return self.decoder.initial_cache(*self.encode(source_ids))

    def step(self, token_ids, cache, index):
        outputs, cache = self.decoder.step(self.decoder_embedding(token_ids), cache)
        return self.decoder_embedding(outputs, reverse=True)[:, 0], cache  # (B, V)

    def alignment(self, source_ids, target_ids):
        """The additive attention's weights of every step: `(B, T, S)`."""
        encoded, source_mask = self.encode(source_ids)
        _, weights = self.decoder(self.decoder_embedding(target_ids), encoded, encoder_padding_mask=source_mask,
                                  return_attention_scores=True)
        return weights
