"""`Generator`: a trained GPT model plus its tokenizer; continues prompts with cached decoding.

Each prompt is tokenized and prefilled in one pass (the decoder over the whole prompt with
cache update index 0, `prefill_fn`); then one token per step runs through the decoder's
key/value cache (`step_fn`), chosen greedily or sampled with temperature, top-k and top-p
(`keras_attn.generation`). The search runs inside one `tf.function(jit_compile=True)` per
setting, traced and compiled once per (samples, prompt length, new tokens) shape and reused.

The context (the model's `sequence_length`) bounds what the model reads:

- a prompt longer than `context - 1` tokens keeps its last `context - 1` tokens (a warning
  names the prompt);
- a continuation that does not fit the context is made in windows: when the window is
  full, its last `context // 2` tokens are prefilled again and decoding goes on, so any
  `max_new_tokens` works (`segment_plan`).

Sampling is seeded: the same seed, prompt and settings give the same text, and a prompt's
`num_samples` samples are independent of the other prompts. With `stream`, the same search
runs step by step (each step compiled) and every new piece of text is handed to
`stream(text)` as soon as it is produced; the text is the one `generate` returns.
"""

import logging

import keras
import tensorflow as tf
from keras import ops

from applications.text.gpt.model import DECODER, EMBEDDING
from keras_attn import generation

logger = logging.getLogger(__name__)


def segment_plan(prompt_length, max_new_tokens, context):
    """`[(prompt tokens read, new tokens made, new tokens kept)]` of each window (see the module doc).

    After the first window every window reads `context // 2` tokens and makes
    `context - context // 2`, the last one too (its extra tokens are dropped), so a long
    continuation needs at most two compiled shapes.

    >>> segment_plan(10, 20, 64), segment_plan(100, 80, 64)
    ([(10, 20, 20)], [(63, 1, 1), (32, 32, 32), (32, 32, 32), (32, 32, 15)])
    """
    keep = min(prompt_length, context - 1)
    segments, remaining = [], int(max_new_tokens)
    while remaining > 0:
        made = min(remaining, context - keep) if not segments else context - keep
        segments.append((keep, made, min(made, remaining)))
        remaining -= made
        keep = context // 2
    return segments


def segment_seed(seed, segment):
    """The sampling seed of one window: distinct for every (seed, window)."""
    return (int(seed) * 1_000_003 + segment) % (2**31 - 1)


class Generator:
    """Continue prompts with a trained GPT model (see the module doc).

    Args:
        model: the model of `build_gpt_model` (or `from_keras_hub_gpt2`).
        tokenizer: its tokenizer (`applications.text.gpt.tokenizers`).
        context: the most tokens the model reads (its `sequence_length`).
    """

    def __init__(self, model, tokenizer, context):
        self.model = model
        self.tokenizer = tokenizer
        self.context = int(context)
        self.embedding = model.get_layer(EMBEDDING)
        self.decoder = model.get_layer(DECODER)
        self.learned_positions = hasattr(self.embedding, "position_embedding")
        self.seed_generator = keras.random.SeedGenerator(0)  # reset to each window's seed before it runs
        # Ids that are never text (padding, unknown, SentencePiece's start/end) are never generated.
        banned = list(getattr(tokenizer, "never_generated", ()))
        vocabulary = int(tokenizer.vocabulary_size)
        self.logit_bias = ops.convert_to_tensor(
            [-1e9 if i in banned else 0.0 for i in range(vocabulary)], "float32") if banned else None
        self._compiled = {}

    # -- the pieces of decoding --------------------------------------------------------------

    def _embed(self, token_ids, start_index):
        if self.learned_positions:
            return self.embedding(token_ids, start_index=start_index)  # (B, T, C)
        return self.embedding(token_ids)  # rotary: the blocks rotate at the cache positions

    def initial_cache(self, batch_size):
        """The decoder's key/value cache for `context` positions (whatever the search's length, so
        the compiled step has one shape)."""
        return self.decoder.initial_self_attention_cache(batch_size, self.context)

    def step_fn(self, token_ids, cache, index):
        """One step: `(B, 1)` ids at position `index` -> `(B, V)` float32 logits, new cache (ids that
        are never text get -1e9)."""
        x = self._embed(token_ids, index)
        x, cache, _ = self.decoder(x, self_attention_cache=cache, self_attention_cache_update_index=index)
        logits = ops.cast(self.embedding(x, reverse=True)[:, 0], "float32")  # (B, V)
        return (logits if self.logit_bias is None else logits + self.logit_bias), cache

    def prefill_fn(self, prompt_ids, cache):
        """The whole `(B, P)` prompt into the cache in one pass (cache update index 0)."""
        x = self._embed(prompt_ids, 0)
        _, cache, _ = self.decoder(x, self_attention_cache=cache, self_attention_cache_update_index=0)
        return cache

    def search(self, prompt_ids, max_length, sampling=None, prompt_lengths=None, step_fn=None, prefill_fn=None):
        """`(B, max_length)` ids continuing a `(B, P)` prompt, uncompiled (`compiled_search` compiles it).

        `sampling`: `None` (greedy) or `{"temperature", "top_k", "top_p"}`, drawn from
        `self.seed_generator`.
        """
        cache = self.initial_cache(ops.shape(prompt_ids)[0])
        common = dict(max_length=max_length, pad_id=self.tokenizer.pad_id, prompt_lengths=prompt_lengths,
                      prefill_fn=prefill_fn or self.prefill_fn)
        if sampling is None:
            return generation.greedy_search(step_fn or self.step_fn, prompt_ids, cache, **common)
        return generation.sample(step_fn or self.step_fn, prompt_ids, cache, seed=self.seed_generator,
                                 **sampling, **common)

    def compiled_search(self, max_length, sampling=None):
        """`search` in one `tf.function(jit_compile=True)` per setting; traced once per shape."""
        key = (max_length, None if sampling is None else tuple(sorted(sampling.items())))
        if key not in self._compiled:
            self._compiled[key] = tf.function(
                lambda prompt_ids: self.search(prompt_ids, max_length, sampling), jit_compile=True,
                reduce_retracing=False,
            )
        return self._compiled[key]

    def _compiled_step(self, sampling):
        """Streaming: the prefill, and one step that also chooses its token, each compiled once.

        The choice is `sample`'s (`sample_from_logits` with one draw from the same seed
        generator per step) or greedy's, so a Python loop of these steps gives the tokens of
        `compiled_search`.
        """
        key = ("step", None if sampling is None else tuple(sorted(sampling.items())))
        if key not in self._compiled:
            def step(token_ids, cache, index):
                logits, cache = self.step_fn(token_ids, cache, index)
                if sampling is None:
                    return ops.cast(ops.argmax(logits, axis=-1), "int32"), cache
                uniform = keras.random.uniform((ops.shape(token_ids)[0],), seed=self.seed_generator)
                return generation.sample_from_logits(logits, uniform, **sampling), cache

            self._compiled[key] = (tf.function(step, jit_compile=True), tf.function(self.prefill_fn, jit_compile=True))
        return self._compiled[key]

    # -- strings in, strings out -------------------------------------------------------------

    def prompt_ids(self, prompt, number=1):
        """The ids a prompt string starts from: its tokens (at least the start ids), and a warning
        when it is longer than the context."""
        ids = [int(i) for i in self.tokenizer.encode(prompt)] if prompt else []
        if not ids:
            return list(self.tokenizer.start_ids), 0
        if len(ids) > self.context - 1:
            logger.warning("Prompt %d has %d tokens, more than the model's context of %d - 1: only its last %d "
                           "tokens are read.", number, len(ids), self.context, self.context - 1)
        return ids, len(ids)

    def continue_ids(self, ids, max_new_tokens, num_samples=1, sampling=None, seed=0, on_token=None):
        """`(num_samples, max_new_tokens)` new ids (a list of lists) after the prompt `ids`.

        `on_token(sample_row_tokens)` (streaming, one sample): called with all new ids so far
        after every step; the windows then run step by step.
        """
        rows = [list(ids) for _ in range(num_samples)]
        new = [[] for _ in range(num_samples)]
        for segment, (keep, count, kept) in enumerate(segment_plan(len(ids), max_new_tokens, self.context)):
            window = tf.constant([row[-keep:] for row in rows], tf.int32)  # (M, keep)
            if sampling is not None:
                self.seed_generator.state.assign(ops.convert_to_tensor([segment_seed(seed, segment), 0],
                                                                       self.seed_generator.state.dtype))
            max_length = keep + count
            if on_token is None:
                tokens = self.compiled_search(max_length, sampling)(window)
            else:
                tokens = self._streamed_search(window, max_length, sampling, new[0], on_token, kept)
            generated = ops.convert_to_numpy(tokens)[:, keep : keep + kept].tolist()
            for row, done, more in zip(rows, new, generated):
                row += more
                done += more
            if on_token is not None:
                on_token(new[0])  # the window's last token is never fed back: report it now
        return new

    def _streamed_search(self, window, max_length, sampling, earlier, on_token, kept):
        """`compiled_search`'s tokens, one compiled step at a time; each of the first `kept` new
        tokens is reported."""
        step, prefill = self._compiled_step(sampling)
        keep = int(window.shape[1])
        cache = prefill(window, self.initial_cache(int(window.shape[0])))
        tokens, new = [window[:, -1]], []
        for index in range(keep - 1, max_length - 1):  # feed position `index`, choose `index + 1`
            chosen, cache = step(tokens[-1][:, None], cache, tf.constant(index, tf.int32))
            tokens.append(chosen)
            new.append(int(ops.convert_to_numpy(chosen)[0]))
            on_token(earlier + new)
            if len(new) == kept:  # the window's other tokens would be dropped
                break
        return ops.concatenate([window, ops.stack(tokens[1:], axis=1)], axis=1)

    def generate(self, prompts, max_new_tokens=100, num_samples=1, greedy=False, temperature=1.0, top_k=None,
                 top_p=None, seed=0, stream=None):
        """`[{"prompt", "sample", "continuation"}]`, `num_samples` per prompt, prompt by prompt.

        `stream(text)`: only with one prompt and one sample; receives each new piece of text.
        """
        if stream is not None and (len(prompts) != 1 or num_samples != 1):
            raise ValueError("Streaming needs one prompt and one sample.")
        sampling = None if greedy else {"temperature": float(temperature), "top_k": top_k, "top_p": top_p}
        results = []
        for number, prompt in enumerate(prompts, start=1):
            ids, _ = self.prompt_ids(prompt, number)
            on_token = None if stream is None else _TextStream(self.tokenizer, stream)
            samples = self.continue_ids(ids, max_new_tokens, num_samples, sampling, seed, on_token)
            for index, new_ids in enumerate(samples):
                text = self.tokenizer.decode(new_ids)
                if on_token is not None:
                    on_token.finish(new_ids)
                results.append({"prompt": prompt, "sample": index, "continuation": text})
        return results


class _TextStream:
    """Turns the growing list of new ids into new pieces of text for `stream(text)`.

    The text so far is decoded again at each step and the part not yet written is written;
    a trailing U+FFFD (half of a character spelled in bytes) waits for the next token.
    """

    def __init__(self, tokenizer, stream):
        self.tokenizer, self.stream, self.written = tokenizer, stream, ""

    def __call__(self, ids, final=False):
        text = self.tokenizer.decode(ids)
        if not final:
            text = text.rstrip("\ufffd")
        if text.startswith(self.written) and len(text) > len(self.written):
            self.stream(text[len(self.written):])
            self.written = text

    def finish(self, ids):
        self(ids, final=True)
