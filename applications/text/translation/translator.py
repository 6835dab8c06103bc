"""`Translator`: a trained model plus its tokenizer; translates with cached decoding.

The encoder runs once per batch; its outputs are projected once into every
decoder block's cross-attention cache, and the decoder then runs one token
per step with its self-attention key/value cache (`step_fn`). The search
(greedy, beam or sampling from `keras_attn.generation`) runs inside one
`tf.function(jit_compile=True)` per search setting, created once per
`Translator` and reused: TensorFlow keeps one compiled program per input shape,
and sources are always padded to `max_length`, so a batch size compiles once.

A translation run folder holds `model.keras`, `tokenizer.model` (SentencePiece) and
`run.json` (the model config under `model_config`); `applications.load(folder)` returns a
`TranslationPredictor` around a `Translator`.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from applications.text.tokenizer import END_ID, PAD_ID, START_ID
from applications.text.translation.data import encode_source
from applications.text.translation.model import DECODER, DECODER_EMBEDDING, ENCODER, ENCODER_EMBEDDING
from keras_attn import generation, masking

TOKENIZER_FILE = "tokenizer.model"
SEARCHES = ("greedy", "beam", "sample")


class Translator:
    """Translate strings with a trained encoder-decoder model.

    Args:
        model: the model of `build_translator_model`.
        tokenizer: its `SubwordTokenizer`.
        config: its `ModelConfig`.
    """

    def __init__(self, model, tokenizer, config):
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.max_length = config.max_length
        self.encoder = model.get_layer(ENCODER)
        self.decoder = model.get_layer(DECODER)
        self.decoder_embedding = model.get_layer(DECODER_EMBEDDING)
        names = {layer.name for layer in model.layers}
        self.encoder_embedding = model.get_layer(ENCODER_EMBEDDING if ENCODER_EMBEDDING in names else DECODER_EMBEDDING)
        self._compiled = {}  # search settings -> tf.function(jit_compile=True)

    # -- the pieces of decoding --------------------------------------------------------------

    def encode(self, source_ids):
        """`(B, S)` source ids -> encoder outputs `(B, S, C)` and the source padding mask `(B, S)`."""
        padding_mask = ops.not_equal(source_ids, PAD_ID)
        embedded = masking.without_implicit_mask(self.encoder_embedding(source_ids))
        return self.encoder(embedded, padding_mask=padding_mask), padding_mask

    def initial_cache(self, source_ids):
        """The decoding state for `step_fn`: (self-attention cache, cross-attention cache,
        source padding mask), each with the batch on axis 0."""
        encoded, padding_mask = self.encode(source_ids)
        batch = ops.shape(source_ids)[0]
        return (
            self.decoder.initial_self_attention_cache(batch, self.max_length),
            self.decoder.compute_cross_attention_cache(encoded),
            padding_mask,
        )

    def step_fn(self, token_ids, cache, index):
        """One decoder step: `(B, 1)` ids at position `index` -> `(B, V)` logits, new cache."""
        self_cache, cross_cache, source_mask = cache
        x = self.decoder_embedding(token_ids, start_index=index)  # (B, 1, C)
        x = masking.without_implicit_mask(x)  # the cache's causal mask covers positions
        x, self_cache, cross_cache = self.decoder(
            x,
            encoder_padding_mask=source_mask,
            self_attention_cache=self_cache,
            self_attention_cache_update_index=index,
            cross_attention_cache=cross_cache,
        )
        logits = self.decoder_embedding(x, reverse=True)[:, 0]  # (B, V)
        return logits, (self_cache, cross_cache, source_mask)

    def generate_ids(self, source_ids, search="greedy", **options):
        """Token ids for `(B, S)` source ids, uncompiled (the compiled path is `generate`).

        Returns `(B, max_length)` int32 ids starting with the start id, or for
        `search="beam"` `(tokens (B, n, max_length), scores (B, n))`.
        """
        cache = self.initial_cache(source_ids)
        start_ids = ops.full((ops.shape(source_ids)[0],), START_ID, "int32")
        common = dict(max_length=self.max_length, end_id=END_ID, pad_id=PAD_ID)
        if search == "greedy":
            return generation.greedy_search(self.step_fn, start_ids, cache, **common)
        if search == "beam":
            return generation.beam_search(self.step_fn, start_ids, cache, **common, **options)
        if search == "sample":
            return generation.sample(self.step_fn, start_ids, cache, **common, **options)
        raise ValueError(f"`search` must be one of {SEARCHES}. Received: search={search!r}")

    def generate(self, source_ids, search="greedy", **options):
        """`generate_ids` compiled with XLA; one function per search setting, reused."""
        key = (search, tuple(sorted(options.items())))
        if key not in self._compiled:
            if search == "sample":
                # The seed generator is created once, so each call draws new samples.
                options = dict(options, seed=keras.random.SeedGenerator(options.get("seed")))
            self._compiled[key] = tf.function(
                lambda ids: self.generate_ids(ids, search, **options), jit_compile=True, reduce_retracing=False
            )
        return self._compiled[key](tf.convert_to_tensor(source_ids, tf.int32))

    def compiled_function(self, search="greedy", **options):
        """The compiled generate function of a setting (None before the first call)."""
        return self._compiled.get((search, tuple(sorted(options.items()))))

    # -- strings in, strings out -------------------------------------------------------------

    def source_ids(self, sentences):
        """Strings (a list or a `(B,)` string tensor) -> `(B, max_length)` int32 source ids."""
        if not isinstance(sentences, tf.Tensor):
            sentences = tf.constant(list(sentences), tf.string)
        return encode_source(self.tokenizer, sentences, self.max_length)

    def translate(self, sentences, search="greedy", batch_size=64, **options):
        """Translate a list of strings; returns a list of strings.

        `search`: `"greedy"`, `"beam"` (`beam_width`, `length_penalty_alpha`) or
        `"sample"` (`temperature`, `top_k`, `top_p`, `seed`). Batches are
        padded to `batch_size` rows so every call reuses one compiled program.
        """
        sentences = list(sentences)
        if not sentences:
            return []
        results = []
        for start in range(0, len(sentences), batch_size):
            chunk = sentences[start : start + batch_size]
            padded = chunk + [""] * (batch_size - len(chunk)) if len(sentences) > batch_size else chunk
            ids = self.generate(self.source_ids(padded), search, **options)
            if search == "beam":
                ids = ids[0][:, 0]  # the best of the n-best list
            texts = self.tokenizer.detokenize(ids).numpy()[: len(chunk)]
            results.extend(text.decode("utf-8") for text in texts)
        return results

    def cross_attention(self, sentence, search="greedy", **options):
        """Translate one sentence and return `(source_pieces, target_pieces, weights)`.

        `weights` is `(target, source)`: the last decoder block's cross-attention,
        averaged over heads, with the translation fed back teacher-forced (the
        decoder blocks return their weights with `return_attention_scores=True`).
        """
        source_ids = self.source_ids([sentence])
        output = self.generate(source_ids, search, **options)
        tokens = (output[0][:, 0] if search == "beam" else output).numpy()[0]
        length = int(np.argmax(tokens[1:] == END_ID)) + 1 if END_ID in tokens[1:] else len(tokens) - 1
        target_ids = tokens[None, :length]  # start id and the translation, without the end id
        source_length = int(np.sum(source_ids.numpy()[0] != PAD_ID))
        source_ids = source_ids[:, :source_length]
        encoded, source_mask = self.encode(source_ids)
        x = masking.without_implicit_mask(self.decoder_embedding(target_ids))
        for block in self.decoder.blocks:
            x, scores = block(x, encoded, encoder_padding_mask=source_mask, return_attention_scores=True)
        weights = ops.convert_to_numpy(ops.mean(scores["cross_attention"][0], axis=0))  # (T, S)
        pieces = lambda ids: [p.decode("utf-8") for p in self.tokenizer.id_to_piece(ids).numpy()]  # noqa: E731
        target_pieces = pieces(tokens[1 : length + 1])  # the tokens each row predicts
        return pieces(source_ids.numpy()[0]), target_pieces, weights
