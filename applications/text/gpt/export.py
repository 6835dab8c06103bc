"""The SavedModel of a GPT run: prompt strings in, greedy continuations out.

Its `serving_default` signature maps `{"prompts": (batch,) tf.string, "max_new_tokens": ()
tf.int32}` to `{"continuations": (batch,) tf.string}`. It holds the tokenizer (TensorFlow
ops), the model and a greedy search over the key/value cache compiled with XLA. Decoding is
**greedy** (the most probable token each step, the same as `keras-attn gpt generate
--top-k 1`), in one window of the model's context: each prompt keeps its last
`context - n` tokens and gets `n = min(max_new_tokens, context - 1)` new tokens (at least
one); for longer continuations call it again on the text so far, or use `keras-attn gpt
generate`, which slides the window. An empty prompt starts from a line break, as `generate`
does. A process that never imports `keras_attn` or `applications` serves it:

    import tensorflow as tf
    import tensorflow_text  # only for a SentencePiece or GPT-2 tokenizer (custom ops)
    gpt = tf.saved_model.load("RUN/saved_model")
    out = gpt.signatures["serving_default"](prompts=tf.constant(["In the beginning"]),
                                            max_new_tokens=tf.constant(40))
    out["continuations"][0].numpy().decode()
"""

import tensorflow as tf


class ServingGPT(tf.Module):
    """The exported module: the tokenizer's resources, the model and the compiled search."""

    def __init__(self, generator):
        super().__init__(name="gpt")
        self._generator = generator
        tokenizer = generator.tokenizer
        self.tokenizer_resources = getattr(tokenizer, "table", None) or getattr(tokenizer, "subword", None) \
            or getattr(tokenizer, "keras_hub_tokenizer", None)
        self.model = generator.model
        self.context = generator.context
        self.start_id = int(tokenizer.start_ids[-1])
        self.pad_id = int(tokenizer.pad_id)
        self._search = tf.function(lambda ids, lengths: generator.search(ids, self.context, None, lengths),
                                   jit_compile=True)

    def _prompts(self, prompts, keep):
        """`(B, context - 1)` right-padded ids of each prompt's last `keep` tokens, and their lengths."""
        ids = self._generator.tokenizer.tokenize(prompts)  # ragged (B, None)
        empty = tf.equal(ids.row_lengths(), 0)
        start = tf.RaggedTensor.from_tensor(tf.fill([tf.shape(prompts)[0], 1], self.start_id))
        with_start = tf.concat([start, ids], axis=1)
        kept = tf.concat([tf.RaggedTensor.from_tensor(empty[:, None]), tf.ones_like(ids, tf.bool)], axis=1)
        ids = tf.ragged.boolean_mask(with_start, kept)[:, -keep:]  # the start id only for empty prompts
        dense = ids.to_tensor(default_value=self.pad_id, shape=[None, self.context - 1])
        return dense, tf.cast(ids.row_lengths(), tf.int32)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="prompts"),
                                  tf.TensorSpec([], tf.int32, name="max_new_tokens")])
    def generate(self, prompts, max_new_tokens):
        new = tf.clip_by_value(max_new_tokens, 1, self.context - 1)
        ids, lengths = self._prompts(prompts, self.context - new)
        tokens = self._search(ids, lengths)  # (B, context)
        positions = lengths[:, None] + tf.range(new)[None, :]  # (B, new): each row's new tokens
        return self._generator.tokenizer.detokenize(tf.gather(tokens, positions, batch_dims=1))


def serving_module(generator):
    """`(module, signatures)` for `applications.skeleton.export.write_saved_model`."""
    if hasattr(generator.tokenizer, "ensure_resource"):
        generator.tokenizer.ensure_resource()  # the traced functions capture it
    module = ServingGPT(generator)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="prompts"),
                                  tf.TensorSpec([], tf.int32, name="max_new_tokens")])
    def serve(prompts, max_new_tokens):
        return {"continuations": module.generate(prompts, max_new_tokens)}

    return module, {"serving_default": serve.get_concrete_function()}
