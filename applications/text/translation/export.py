"""Export a translator as a TensorFlow SavedModel: strings in, translations out.

The SavedModel holds the tokenizer, the encoder, the decoder and the greedy
search (compiled with XLA); its `serving_default` signature maps
`{"sentences": (batch,) tf.string}` to `{"translations": (batch,) tf.string}`.
A process that never imports `keras_attn`, `keras` or `applications` can use it:

    import tensorflow as tf
    import tensorflow_text  # registers the SentencePiece ops the graph uses
    translator = tf.saved_model.load("RUN/saved_model")
    translator.translate(tf.constant(["Jesus wept."]))
    # or translator.signatures["serving_default"](sentences=tf.constant([...]))

`import tensorflow_text` is required: the tokenizer is TensorFlow Text's
`SentencepieceOp` family, custom ops that TensorFlow registers only when
`tensorflow_text` is imported (loading fails with "Op type not registered
'SentencepieceOp'" otherwise; `tests/applications/text/test_export.py` checks both).
"""

import tensorflow as tf

from applications.skeleton.export import write_saved_model


class _ServingTranslator(tf.Module):
    """The exported module: tokenizer, model variables and a `translate` function."""

    def __init__(self, translator):
        super().__init__(name="translator")
        self._translator = translator
        self.tokenizer = translator.tokenizer
        self.model = translator.model
        self._generate = tf.function(lambda ids: translator.generate_ids(ids, "greedy"), jit_compile=True)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="sentences")])
    def translate(self, sentences):
        source_ids = self._translator.source_ids(sentences)  # (B, max_length)
        tokens = self._generate(source_ids)  # (B, max_length)
        return self.tokenizer.detokenize(tokens)


def serving_module(translator):
    """`(module, signatures)` of a translator's SavedModel."""
    translator.tokenizer.ensure_resource()  # the traced functions capture it
    module = _ServingTranslator(translator)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="sentences")])
    def serve(sentences):
        return {"translations": module.translate(sentences)}

    return module, {"serving_default": serve.get_concrete_function()}


def export_saved_model(translator, directory):
    """Write the SavedModel to `directory` (atomically replaced); returns `directory`."""
    return write_saved_model(*serving_module(translator), directory)
