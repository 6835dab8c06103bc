"""T5 (Raffel et al., 2020) in keras-attn layers: the one T5 builder of the translation family.

T5 in keras-attn terms: pre-norm blocks with RMS norms without bias (`norm="rms_norm"`,
epsilon `1e-6`), projections without bias (`use_bias=False`), no logit scaling
(`attention_scale=1.0`: the query initialisation carries it), no position embeddings: a
`RelativePositionBias` (32 buckets, max distance 128) computed once per stack and shared by
its blocks' self-attention, bidirectional in the encoder and causal in the decoder;
cross-attention has none. The feed-forward network is ReLU (T5) or gated GELU with the tanh
approximation (T5 v1.1, `gated=True`). Dropout sits after the embeddings, on the attention
weights, on every residual branch, inside the feed-forward network and after each stack's
final norm, as in keras-hub.

Two users share `t5_stacks` and `t5_encoder_decoder`:

- `build_t5_model(config)`: `--architecture t5` of `keras-attn text train`, trained from
  scratch: T5 v1.1's gated GELU, the `--size` table's dimensions (heads of
  `hidden_dim / num_heads`), one token table for both sides (`share_embeddings`) and, with
  `tie_weights`, the output projection through it after scaling the decoder output by
  `hidden_dim ** -0.5` (T5's tied head). Query kernels start scaled by `key_dim ** -0.5`
  (Mesh TensorFlow's initialisation), so that without logit scaling the first logits are
  those of scaled dot-product attention.
- `from_keras_hub_t5` (`keras_hub_t5.py`): a keras-hub `T5Backbone`'s configuration and
  weights.
"""

import keras

from applications.text.translation.decoding import (
    DECODER, DECODER_EMBEDDING, ENCODER, ENCODER_EMBEDDING, StackDecoding,
)
from keras_attn.layers import RelativePositionBias, TransformerDecoder, TransformerEncoder

# keras-hub's T5MultiHeadAttention (and T5) fix these.
NUM_BUCKETS, MAX_DISTANCE = 32, 128
LAYER_NORM_EPSILON = 1e-6
OUTPUT_SCALE = "output_scale"


def t5_stacks(num_layers, num_heads, intermediate_dim, dropout_rate=0.0, activation="gelu_approximate",
              gated=True, key_dim=None, layer_norm_epsilon=LAYER_NORM_EPSILON, dtype=None):
    """T5's `(TransformerEncoder "encoder", TransformerDecoder "decoder")`, each owning a
    `RelativePositionBias` (bidirectional in the encoder, causal in the decoder)."""
    arguments = dict(
        num_layers=num_layers, num_heads=num_heads, intermediate_dim=intermediate_dim, key_dim=key_dim,
        dropout_rate=dropout_rate, attention_dropout_rate=dropout_rate, activation=activation, gated=gated,
        layer_norm_epsilon=layer_norm_epsilon, norm="rms_norm", use_bias=False, attention_scale=1.0,
        final_norm=True, dtype=dtype,
    )

    def bias(name, bidirectional):
        return RelativePositionBias(num_heads, NUM_BUCKETS, MAX_DISTANCE, bidirectional=bidirectional, name=name,
                                    dtype=dtype)

    encoder = TransformerEncoder(**arguments, position_bias=bias("encoder_position_bias", True), name=ENCODER)
    decoder = TransformerDecoder(**arguments, position_bias=bias("decoder_position_bias", False), name=DECODER)
    return encoder, decoder


def t5_encoder_decoder(encoder_embedding, decoder_embedding, encoder, decoder, encoder_ids, decoder_ids,
                       dropout_rate=0.0, encoder_padding_mask=None, decoder_padding_mask=None, dtype=None):
    """T5's wiring of embeddings and stacks on functional inputs; returns `(encoded (B, S, C),
    decoded (B, T, C))`. Without padding masks the stacks read the embeddings' implicit masks."""

    def dropout(name):
        return keras.layers.Dropout(dropout_rate, name=name, dtype=dtype)

    # Encoder: bidirectional relative positions.
    x = dropout("encoder_embedding_dropout")(encoder_embedding(encoder_ids))
    x = encoder(x, padding_mask=encoder_padding_mask)
    encoded = dropout("encoder_output_dropout")(x)
    # Decoder: causal self-attention with causal relative positions, cross-attention over the encoder.
    y = dropout("decoder_embedding_dropout")(decoder_embedding(decoder_ids))
    y = decoder(y, encoded, decoder_padding_mask=decoder_padding_mask, encoder_padding_mask=encoder_padding_mask)
    decoded = dropout("decoder_output_dropout")(y)
    return encoded, decoded


def build_t5_model(config):
    """The `t5` translation model of a `ModelConfig` (see the module doc)."""
    from applications.text.translation.model import model_inputs

    encoder_ids, decoder_ids = model_inputs()

    def embedding(name):
        return keras.layers.ReversibleEmbedding(config.vocabulary_size, config.hidden_dim, mask_zero=True,
                                                tie_weights=config.tie_weights, name=name,
                                                embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0))

    decoder_embedding = embedding(DECODER_EMBEDDING)
    encoder_embedding = decoder_embedding if config.share_embeddings else embedding(ENCODER_EMBEDDING)
    encoder, decoder = t5_stacks(config.num_layers, config.num_heads, config.intermediate_dim,
                                 dropout_rate=config.dropout_rate)
    _, decoded = t5_encoder_decoder(encoder_embedding, decoder_embedding, encoder, decoder, encoder_ids,
                                    decoder_ids, dropout_rate=config.dropout_rate)
    if config.tie_weights:
        decoded = keras.layers.Rescaling(config.hidden_dim**-0.5, name=OUTPUT_SCALE)(decoded)
    logits = decoder_embedding(decoded, reverse=True)  # (B, T, V)
    model = keras.Model({"encoder_token_ids": encoder_ids, "decoder_token_ids": decoder_ids}, logits,
                        name="t5_translator")
    key_dim = config.hidden_dim // config.num_heads
    for stack in (encoder, decoder):
        scale_query_kernels(stack, key_dim**-0.5)
    return model


def scale_query_kernels(stack, factor):
    """Multiply every attention query kernel of a stack by `factor` (T5's initialisation)."""
    for block in stack.blocks:
        for name in ("self_attention_layer", "cross_attention_layer"):
            attention = getattr(block, name, None)
            if attention is not None:
                attention.query_dense.kernel.assign(attention.query_dense.kernel * factor)


class T5Decoding(StackDecoding):
    """No absolute positions (the stacks' relative bias follows the cache index); the tied
    head scales the decoder output first."""

    def __init__(self, model, config):
        super().__init__(model, config)
        names = {layer.name for layer in model.layers}
        self.output_scale = model.get_layer(OUTPUT_SCALE) if OUTPUT_SCALE in names else None

    def embed_source(self, source_ids):
        return self.encoder_embedding(source_ids)

    def embed_target(self, token_ids, index):
        return self.decoder_embedding(token_ids)

    def logits(self, decoded):
        if self.output_scale is not None:
            decoded = self.output_scale(decoded)
        return self.decoder_embedding(decoded, reverse=True)
