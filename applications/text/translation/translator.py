"""`Translator`: a trained model plus its tokenizer; translates with cached decoding.

The model's architecture (Transformer, T5 or RNN) is reached through one small interface,
its `Decoding` (`applications/text/translation/decoding.py`): `initial_cache` runs the
encoder once per batch (the Transformer and T5 also project it once into every decoder
block's cross-attention cache; the RNN projects its attention keys once), `step` runs the
decoder one token at a time over its cache (key/value caches, or the recurrent state), and
`alignment` gives the heatmap's weights. The search (greedy, beam or sampling from
`keras_attn.generation`) runs inside one `tf.function(jit_compile=True)` per search
setting, created once per `Translator` and reused: TensorFlow keeps one compiled program
per input shape, and sources are always padded to `max_length`, so a batch size compiles
once.

A translation run folder holds `model.keras`, `tokenizer.model` (SentencePiece) and
`run.json` (the model config, its `architecture` included, under `model_config`);
`applications.load(folder)` returns a `TranslationPredictor` around a `Translator`.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from applications.text.tokenizer import END_ID, PAD_ID, START_ID
from applications.text.translation.data import encode_source
from applications.text.translation.decoding import decoding_for
from keras_attn import generation

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
        self.decoding = decoding_for(model, config)
        self._compiled = {}  # search settings -> tf.function(jit_compile=True)

    # -- the pieces of decoding --------------------------------------------------------------

    def initial_cache(self, source_ids):
        """The decoding state for `step_fn` (a nest of tensors, batch on axis 0)."""
        return self.decoding.initial_cache(source_ids, self.max_length)

    def step_fn(self, token_ids, cache, index):
        """One decoder step: `(B, 1)` ids at position `index` -> `(B, V)` logits, new cache."""
        return self.decoding.step(token_ids, cache, index)

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
        padded to `batch_size` rows, and a call of fewer sentences to the next
        power of two, so calls reuse a few compiled programs (one per shape).
        """
        sentences = list(sentences)
        if not sentences:
            return []
        results = []
        for start in range(0, len(sentences), batch_size):
            chunk = sentences[start : start + batch_size]
            rows = batch_size if len(sentences) > batch_size else min(batch_size, 1 << (len(chunk) - 1).bit_length())
            padded = chunk + [""] * (rows - len(chunk))
            ids = self.generate(self.source_ids(padded), search, **options)
            if search == "beam":
                ids = ids[0][:, 0]  # the best of the n-best list
            texts = self.tokenizer.detokenize(ids).numpy()[: len(chunk)]
            results.extend(text.decode("utf-8") for text in texts)
        return results

    def cross_attention(self, sentence, search="greedy", **options):
        """Translate one sentence and return `(source_pieces, target_pieces, weights)`.

        `weights` is `(target, source)`, with the translation fed back teacher-forced: the
        last decoder block's cross-attention averaged over heads (Transformer, T5), or the
        additive attention's weights (RNN); each row sums to one over the source.
        """
        source_ids = self.source_ids([sentence])
        output = self.generate(source_ids, search, **options)
        tokens = (output[0][:, 0] if search == "beam" else output).numpy()[0]
        length = int(np.argmax(tokens[1:] == END_ID)) + 1 if END_ID in tokens[1:] else len(tokens) - 1
        target_ids = tokens[None, :length]  # start id and the translation, without the end id
        source_length = int(np.sum(source_ids.numpy()[0] != PAD_ID))
        source_ids = source_ids[:, :source_length]
        weights = ops.convert_to_numpy(self.decoding.alignment(source_ids, target_ids))[0]  # (T, S)
        pieces = lambda ids: [p.decode("utf-8") for p in self.tokenizer.id_to_piece(ids).numpy()]  # noqa: E731
        target_pieces = pieces(tokens[1 : length + 1])  # the tokens each row predicts
        return pieces(source_ids.numpy()[0]), target_pieces, weights
