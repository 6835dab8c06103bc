"""The SavedModel of a fine-tuned BERT classifier: strings in, labels and probabilities out.

Its `serving_default` signature maps `{"texts": (batch,) tf.string}` (and `"texts_b"` for a
sentence-pair model) to `{"label": (batch,) tf.string, "probability": (batch,) float32,
"labels": (batch, k) tf.string, "probabilities": (batch, k) float32}`, best first, with
`k = min(5, classes)`. The texts are tokenized and packed by the same TensorFlow ops as in
training (`applications.text.bert.data.pack`), so its answers equal `predict`'s. A process that
imports neither `keras_attn`, `keras` nor `applications` serves it, once `tensorflow_text` is
imported (the tokenizer's ops are TF Text's custom ops):

    import tensorflow as tf
    import tensorflow_text  # registers the WordPiece / SentencePiece ops
    classifier = tf.saved_model.load("RUN/saved_model")
    out = classifier.signatures["serving_default"](texts=tf.constant(["Jesus wept."]))
    out["label"][0], out["probability"][0]
"""

import tensorflow as tf

from applications.text.bert.data import pack


class ServingClassifier(tf.Module):
    """The exported module: the model, the tokenizer, the class names and the packing."""

    def __init__(self, model, tokenizer, sequence_length):
        super().__init__(name="bert_classifier")
        self.model = model
        self.tokenizer = tokenizer
        self.sequence_length = int(sequence_length)
        self.class_names = tf.constant(list(model.class_names))
        self.k = min(5, model.num_classes)

    def classify(self, texts, texts_b=None):
        ids_b = None if texts_b is None else self.tokenizer.tokenize(texts_b)
        features = pack(self.tokenizer, self.tokenizer.tokenize(texts), ids_b, self.sequence_length)
        logits = tf.cast(self.model(features, training=False), tf.float32)  # (B, classes)
        probabilities, indices = tf.math.top_k(tf.nn.softmax(logits, axis=-1), k=self.k)
        labels = tf.gather(self.class_names, indices)
        return {"label": labels[:, 0], "probability": probabilities[:, 0], "labels": labels,
                "probabilities": probabilities}


def serving_module(model, tokenizer, sequence_length):
    """`(module, signatures)` for `applications.skeleton.export.write_saved_model`."""
    if hasattr(tokenizer, "subword"):
        tokenizer.subword.ensure_resource()  # the traced function captures the SentencePiece resource
    module = ServingClassifier(model, tokenizer, sequence_length)
    text = tf.TensorSpec([None], tf.string, name="texts")
    if model.text_pairs:
        serve = tf.function(lambda texts, texts_b: module.classify(texts, texts_b),
                            input_signature=[text, tf.TensorSpec([None], tf.string, name="texts_b")])
    else:
        serve = tf.function(lambda texts: module.classify(texts), input_signature=[text])
    return module, {"serving_default": serve.get_concrete_function()}
