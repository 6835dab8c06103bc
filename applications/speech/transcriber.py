"""`Transcriber`: a `SpeechToText` model plus its tokenizer; transcribes with cached decoding.

Per batch of clips the encoder runs once (front end, frame mask, encoder), its steps are
projected once into every decoder block's cross-attention keys and values
(`TransformerDecoder.compute_cross_attention_cache`), the prompt
(`<|startoftranscript|> <|transcribe|>`) is written into the self-attention cache in one
pass (`prefill_fn`), and the decoder then runs one token per step against its key/value
cache (`step_fn`), greedily or by beam search (`keras_attn.generation`). The whole search
runs in one `tf.function(jit_compile=True)` per search setting, made once per
`Transcriber`; clips are padded to the model's length and batches to a power of two rows
(at most `batch_size`), so each batch shape compiles once.

    transcriber = Transcriber(model, tokenizer)
    transcriber.transcribe({"audio": audio, "sample_lengths": lengths})          # greedy
    transcriber.transcribe(inputs, beam_width=4, length_penalty=0.6)             # beam search
"""

import numpy as np
import tensorflow as tf
from keras import ops

from applications.speech.audio_inputs import audio_steps
from keras_attn import generation


class Transcriber:
    """Transcribe clips with a trained (or imported) `SpeechToText` model.

    Args:
        model: a `SpeechToText`.
        tokenizer: its transcript tokenizer (`transcript_tokenizer`), or any object with
            `prompt_ids`, `end_id`, `pad_id` and `decode(ids)`.
        prompt_ids: the decoder prompt; default `tokenizer.prompt_ids`.
    """

    def __init__(self, model, tokenizer, prompt_ids=None):
        self.model = model
        self.tokenizer = tokenizer
        self.prompt_ids = tuple(int(i) for i in (tokenizer.prompt_ids if prompt_ids is None else prompt_ids))
        self.max_length = model.max_target_length
        self.encoder = model.encoder
        self.decoder = model.decoder
        self.embedding = model.decoder_embedding
        self._compiled = {}  # search settings -> tf.function(jit_compile=True)

    # -- the pieces of decoding --------------------------------------------------------------

    def encode(self, inputs):
        """`(steps (B, S, C), step_mask (B, S))` of the model's inputs (no SpecAugment)."""
        if self.model.audio_input:
            return audio_steps(self.encoder, self.model.front_end, inputs["audio"], inputs["sample_lengths"],
                               self.model.feature_normalization, training=False)
        steps = self.encoder(inputs["encoder_features"], training=False)
        return steps, ops.ones(ops.shape(steps)[:2], "bool")  # every frame real

    def initial_cache(self, inputs):
        """The decoding state: (self-attention cache, cross-attention cache, step mask), each
        with the batch on axis 0 (beam search repeats and reorders them)."""
        steps, step_mask = self.encode(inputs)
        batch = ops.shape(steps)[0]
        return (self.decoder.initial_self_attention_cache(batch, self.max_length),
                self.decoder.compute_cross_attention_cache(steps), step_mask)

    def _decode(self, token_ids, cache, index):
        self_cache, cross_cache, step_mask = cache
        x = self.embedding(token_ids, start_index=index)  # (B, T, C)
        x, self_cache, cross_cache = self.decoder(
            x, encoder_padding_mask=step_mask, self_attention_cache=self_cache,
            self_attention_cache_update_index=index, cross_attention_cache=cross_cache,
        )
        return x, (self_cache, cross_cache, step_mask)

    def step_fn(self, token_ids, cache, index):
        """One step: `(B, 1)` ids at position `index` -> `(B, V)` logits, the new cache."""
        x, cache = self._decode(token_ids, cache, index)
        return self.embedding(x, reverse=True)[:, 0], cache

    def prefill_fn(self, prompt_ids, cache):
        """The whole `(B, P)` prompt written into the self-attention cache at once."""
        return self._decode(prompt_ids, cache, 0)[1]

    def cached_logits(self, inputs, token_ids):
        """`(B, T, V)` logits of a teacher-forced `(B, T)` sequence computed token by token
        through the caches (what decoding computes; tests compare it with one full pass)."""
        cache = self.initial_cache(inputs)
        logits = []
        for index in range(token_ids.shape[1]):
            step, cache = self.step_fn(ops.convert_to_tensor(token_ids[:, index : index + 1], "int32"), cache, index)
            logits.append(step)
        return ops.stack(logits, axis=1)

    def prompt(self, batch):
        return ops.tile(ops.convert_to_tensor([self.prompt_ids], "int32"), (batch, 1))  # (B, P)

    def generate_ids(self, inputs, beam_width=None, length_penalty=0.6):
        """`(B, max_length)` ids (prompt, transcript, end, padding), uncompiled; beam search
        returns its best sequence."""
        cache = self.initial_cache(inputs)
        batch = ops.shape(cache[2])[0]
        common = dict(max_length=self.max_length, end_id=self.tokenizer.end_id, pad_id=self.tokenizer.pad_id,
                      prefill_fn=self.prefill_fn)
        if beam_width:
            tokens, _ = generation.beam_search(self.step_fn, self.prompt(batch), cache, beam_width=int(beam_width),
                                               length_penalty_alpha=float(length_penalty), **common)
            return tokens[:, 0]
        return generation.greedy_search(self.step_fn, self.prompt(batch), cache, **common)

    def generate(self, inputs, beam_width=None, length_penalty=0.6):
        """`generate_ids` compiled with XLA; one function per search setting, reused."""
        key = (int(beam_width or 0), float(length_penalty) if beam_width else None)
        if key not in self._compiled:
            self._compiled[key] = tf.function(
                lambda inputs: self.generate_ids(inputs, beam_width, length_penalty), jit_compile=True,
                reduce_retracing=False,
            )
        return self._compiled[key]({name: tf.convert_to_tensor(value) for name, value in inputs.items()})

    def compiled_function(self, beam_width=None, length_penalty=0.6):
        """The compiled function of a setting (None before its first call)."""
        return self._compiled.get((int(beam_width or 0), float(length_penalty) if beam_width else None))

    # -- clips in, text out ------------------------------------------------------------------

    def decode_ids(self, ids):
        """`(B, max_length)` generated ids -> texts (the prompt left out)."""
        return [self.tokenizer.decode(row[len(self.prompt_ids):]) for row in np.asarray(ids)]

    def transcribe(self, inputs, beam_width=None, length_penalty=0.6, batch_size=32):
        """Transcripts of `{"audio", "sample_lengths"}` (or `{"encoder_features"}`) arrays.

        Inputs go in batches of `batch_size` rows; a smaller batch is padded (by repeating
        its last row) to the next power of two, so a few compiled programs serve every
        count of clips.
        """
        count = len(next(iter(inputs.values())))
        texts = []
        for start in range(0, count, batch_size):
            chunk = {name: np.asarray(value[start : start + batch_size]) for name, value in inputs.items()}
            rows = len(next(iter(chunk.values())))
            padded_rows = min(batch_size, 2 ** int(np.ceil(np.log2(rows))))
            if padded_rows > rows:
                chunk = {name: np.concatenate([value, np.repeat(value[-1:], padded_rows - rows, axis=0)])
                         for name, value in chunk.items()}
            texts.extend(self.decode_ids(self.generate(chunk, beam_width, length_penalty))[:rows])
        return texts
