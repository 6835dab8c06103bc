"""A joint source/target subword vocabulary: SentencePiece, run as TensorFlow ops.

The vocabulary is trained with the `sentencepiece` library (the trainer that
`keras_hub.tokenizers.compute_sentence_piece_proto` wraps, called directly so
that a small corpus can get a soft vocabulary limit) with keras-hub's id
convention. Tokenizing and detokenizing use
`tensorflow_text.SentencepieceTokenizer`, so they run inside `tf.data` and in
the exported SavedModel. SentencePiece keeps the spaces in its pieces, so
detokenizing gives clean text back: no `##`, the original spacing around
punctuation, accents kept.
"""

import io
import logging

import tensorflow as tf
import tensorflow_text as tf_text

logger = logging.getLogger(__name__)

PAD_ID, UNK_ID, START_ID, END_ID = 0, 1, 2, 3  # keras-hub's SentencePiece convention
# SentencePiece options of `byte_fallback=True`: the text is modelled exactly as it is.
_EXACT_TEXT = dict(byte_fallback=True, normalization_rule_name="identity", add_dummy_prefix=False,
                   remove_extra_whitespaces=False, split_by_whitespace=True, allow_whitespace_only_pieces=True)


def train_sentencepiece(texts, vocabulary_size=8000, model_type="unigram", byte_fallback=False):
    """Train a SentencePiece model on an iterable of strings; returns the model proto bytes.

    `vocabulary_size` is a soft limit: a small corpus gets the vocabulary it supports.

    `byte_fallback=False` (translation) normalises the text (NFKC, spaces collapsed, a
    leading space added to every text) and maps unseen characters to the unknown id.
    `byte_fallback=True` (the GPT family) keeps the text exactly as it is (no
    normalisation, no added or collapsed spaces) and spells every character that is not a
    piece, line breaks and characters never seen in training included, as its UTF-8 bytes
    (256 byte pieces), so any text round-trips; the vocabulary must then hold at least the
    256 byte pieces plus the special ids and the training text's characters.
    """
    import sentencepiece

    if vocabulary_size < 8:
        raise ValueError(f"`vocabulary_size` must be >= 8. Received: vocabulary_size={vocabulary_size}")
    texts = [text for text in texts if text]
    if not texts:
        raise ValueError("Cannot train a vocabulary on no text.")
    proto = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=proto,
        vocab_size=vocabulary_size,
        hard_vocab_limit=False,
        model_type=model_type,
        character_coverage=1.0,  # keep every accented letter
        **(_EXACT_TEXT if byte_fallback else {"normalization_rule_name": "nmt_nfkc"}),
        pad_id=PAD_ID,
        unk_id=UNK_ID,
        bos_id=START_ID,
        eos_id=END_ID,
        num_threads=1,  # deterministic
        minloglevel=2,
    )
    return proto.getvalue()


class SubwordTokenizer(tf.Module):
    """Text <-> subword ids with a SentencePiece model (TensorFlow ops, SavedModel-safe).

    Args:
        proto: the serialized SentencePiece model (`train_sentencepiece`).

    Example:

    >>> proto = train_sentencepiece(["the cat sat.", "el gato, sentado."] * 20, vocabulary_size=40)
    >>> tokenizer = SubwordTokenizer(proto)
    >>> ids = tokenizer.tokenize(["el gato sat."])
    >>> [s.decode() for s in tokenizer.detokenize(ids).numpy()]
    ['el gato sat.']
    """

    def __init__(self, proto, name=None):
        super().__init__(name=name)
        self.proto = bytes(proto)
        self.sentencepiece = tf_text.SentencepieceTokenizer(model=self.proto, out_type=tf.int32)
        self.vocabulary_size = int(self._eager(lambda sp: sp.vocab_size()).numpy())

    def _eager(self, function):
        """`function(self.sentencepiece)`, with the TF Text tokenizer rebuilt if its resource is gone.

        TF Text's SentencepieceOp resource is owned by its eager kernel, and
        `tf.random.set_seed` (e.g. `keras.utils.set_random_seed`) clears
        TensorFlow's eager kernel cache, which deletes the resource ("Resource
        ... SentencepieceOp ... does not exist"). Graph functions (`tf.data`,
        the exported SavedModel) hold their own.
        """
        if not tf.executing_eagerly():
            return function(self.sentencepiece)
        try:
            return function(self.sentencepiece)
        except tf.errors.NotFoundError:
            self.sentencepiece = tf_text.SentencepieceTokenizer(model=self.proto, out_type=tf.int32)
            return function(self.sentencepiece)

    def ensure_resource(self):
        """Rebuild the TF Text resource if it is gone; call before tracing graphs that capture it."""
        self._eager(lambda sp: sp.vocab_size())
        return self

    @classmethod
    def train(cls, texts, vocabulary_size=8000):
        """Train a vocabulary on `texts` and return the tokenizer."""
        tokenizer = cls(train_sentencepiece(texts, vocabulary_size))
        logger.info("Trained a SentencePiece vocabulary of %d pieces.", tokenizer.vocabulary_size)
        return tokenizer

    def tokenize(self, texts):
        """`(batch,)` strings -> ragged `(batch, None)` int32 ids (no start/end ids)."""
        return self._eager(lambda sp: sp.tokenize(texts))

    def detokenize(self, ids):
        """`(batch, length)` ids (dense or ragged) -> `(batch,)` strings.

        Start, end and padding ids are dropped, and so is everything after the
        first end id.
        """
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.convert_to_tensor(ids, tf.int32)
            # Keep the tokens before the first end id, then drop start/padding.
            before_end = tf.cumsum(tf.cast(ids == END_ID, tf.int32), axis=-1) == 0
            keep = before_end & (ids != PAD_ID) & (ids != START_ID)
            ids = tf.ragged.boolean_mask(ids, keep)
        return self._eager(lambda sp: sp.detokenize(ids))

    def id_to_piece(self, ids):
        """Ids -> their pieces, as strings (for plots)."""
        return self._eager(lambda sp: sp.id_to_string(ids))

    def save(self, path):
        with open(path, "wb") as file:
            file.write(self.proto)

    @classmethod
    def load(cls, path):
        with open(path, "rb") as file:
            return cls(file.read())
