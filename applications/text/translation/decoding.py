"""How `Translator` drives an architecture: one small interface, three implementations.

`Translator` (searches, strings in and out, the SavedModel) knows nothing about the network
inside a translation model. It talks to it through a `Decoding`:

- `initial_cache(source_ids, max_length)`: run the encoder once; return the decoder's
  state, a nest of tensors with the batch on axis 0 (so beam search can reorder it);
- `step(token_ids, cache, index)`: `(B, 1)` ids at position `index` -> `(B, V)` logits of
  the next token and the new cache (the `step_fn` of `keras_attn.generation`);
- `alignment(source_ids, target_ids)`: `(B, T, S)` weights over the source for each
  target position, computed teacher-forced in one pass (the alignment heatmap).

`StackDecoding` serves the Transformer and T5 (self-attention key/value caches, the
encoder projected once into every block's cross-attention cache; the alignment is the last
block's cross-attention averaged over heads); `RecurrentDecoding`
(`applications/text/translation/rnn.py`) serves the RNN (the recurrent state and the last
context are the cache; the alignment is the additive attention's weights).
`decoding_for(model, config)` picks the one of `config.architecture`.
"""

from keras import ops

from applications.text.tokenizer import PAD_ID
from keras_attn import masking

ENCODER, DECODER = "encoder", "decoder"
ENCODER_EMBEDDING, DECODER_EMBEDDING = "encoder_embedding", "decoder_embedding"


class Decoding:
    """The interface (see the module doc); `model` is a translation model, `config` its
    `ModelConfig`."""

    def __init__(self, model, config):
        self.model = model
        self.config = config

    def initial_cache(self, source_ids, max_length):
        raise NotImplementedError

    def step(self, token_ids, cache, index):
        raise NotImplementedError

    def alignment(self, source_ids, target_ids):
        raise NotImplementedError

    def _layer(self, name, fallback=None):
        names = {layer.name for layer in self.model.layers}
        return self.model.get_layer(name if name in names or fallback is None else fallback)


class StackDecoding(Decoding):
    """Encoder and decoder stacks (`TransformerEncoder` / `TransformerDecoder` named
    `"encoder"` / `"decoder"`); subclasses say how ids are embedded and how decoder outputs
    become logits."""

    def __init__(self, model, config):
        super().__init__(model, config)
        self.encoder = model.get_layer(ENCODER)
        self.decoder = model.get_layer(DECODER)
        self.decoder_embedding = model.get_layer(DECODER_EMBEDDING)
        self.encoder_embedding = self._layer(ENCODER_EMBEDDING, fallback=DECODER_EMBEDDING)

    # -- what differs between the Transformer and T5 -------------------------------------

    def embed_source(self, source_ids):
        """`(B, S)` ids -> `(B, S, C)`."""
        raise NotImplementedError

    def embed_target(self, token_ids, index):
        """`(B, T)` ids starting at position `index` -> `(B, T, C)`."""
        raise NotImplementedError

    def logits(self, decoded):
        """`(B, T, C)` decoder outputs -> `(B, T, V)` logits."""
        raise NotImplementedError

    # -- the interface -------------------------------------------------------------------

    def encode(self, source_ids):
        """`(B, S)` ids -> encoder outputs `(B, S, C)` and the source padding mask `(B, S)`."""
        padding_mask = ops.not_equal(source_ids, PAD_ID)
        embedded = masking.without_implicit_mask(self.embed_source(source_ids))
        return self.encoder(embedded, padding_mask=padding_mask), padding_mask

    def initial_cache(self, source_ids, max_length):
        """(self-attention cache, cross-attention cache, source padding mask)."""
        encoded, padding_mask = self.encode(source_ids)
        batch = ops.shape(source_ids)[0]
        return (
            self.decoder.initial_self_attention_cache(batch, max_length),
            self.decoder.compute_cross_attention_cache(encoded),
            padding_mask,
        )

    def step(self, token_ids, cache, index):
        self_cache, cross_cache, source_mask = cache
        x = masking.without_implicit_mask(self.embed_target(token_ids, index))  # (B, 1, C); the cache masks
        x, self_cache, cross_cache = self.decoder(
            x,
            encoder_padding_mask=source_mask,
            self_attention_cache=self_cache,
            self_attention_cache_update_index=index,
            cross_attention_cache=cross_cache,
        )
        return self.logits(x)[:, 0], (self_cache, cross_cache, source_mask)  # (B, V)

    def alignment(self, source_ids, target_ids):
        """The last decoder block's cross-attention, averaged over heads: `(B, T, S)`."""
        encoded, source_mask = self.encode(source_ids)
        x = masking.without_implicit_mask(self.embed_target(target_ids, 0))
        _, scores = self.decoder(x, encoded, encoder_padding_mask=source_mask, return_attention_scores=True)
        return ops.mean(scores[-1]["cross_attention"], axis=1)


def decoding_for(model, config):
    """The `Decoding` of `config.architecture` bound to `model`."""
    if config.architecture == "transformer":
        from applications.text.translation.model import TransformerDecoding as decoding_class
    elif config.architecture == "t5":
        from applications.text.translation.t5 import T5Decoding as decoding_class
    elif config.architecture == "rnn":
        from applications.text.translation.rnn import RecurrentDecoding as decoding_class
    else:
        raise ValueError(f"Unknown architecture {config.architecture!r}.")
    return decoding_class(model, config)
