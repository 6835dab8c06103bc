"""The GPT family's tokenizers: characters, SentencePiece with byte fallback, GPT-2's BPE.

Every tokenizer is trained on (or, for `gpt2`, comes with) the training text, is written into
the run folder as assets, and offers the same methods:

- `encode(text)` -> numpy int32 ids of a whole corpus (fast, in Python/C++);
- `tokenize(strings)` -> ragged int32 ids and `detokenize(ids)` -> strings, as TensorFlow
  ops, so they run in `tf.data` and in the exported SavedModel;
- `decode(ids)` -> a Python string; `start_ids` -> the ids an empty prompt starts from;
  `never_generated` -> ids that are not text (padding, unknown), which generation never picks.

Kinds (`--tokenizer`):

- `char` (default): one id per Unicode character of the training text (sorted), plus id 0
  (padding, decodes to nothing) and id 1 (unknown). A character never seen in training maps
  to the unknown id, which decodes to U+FFFD (the replacement character); generation never
  fails on it. An empty prompt starts from a line break (or the unknown id when the
  training text has none).
- `sentencepiece`: a SentencePiece unigram model (`--vocabulary-size` pieces, a soft limit,
  at least 256 byte pieces + the special ids + the characters) trained on the training
  text's lines, with byte fallback: any character, seen or not, line breaks included, is
  spelled in UTF-8 bytes when it is not a piece, so every text round-trips exactly.
- `gpt2`: GPT-2's byte-level BPE (keras-hub's `GPT2Tokenizer`), only with
  `--init keras_hub:<preset>` whose folder holds it; byte-level, so any text round-trips.

Example:

>>> tokenizer = CharacterTokenizer.train("abba cab\\n")
>>> tokenizer.vocabulary_size, tokenizer.encode("cab!").tolist()
(7, [6, 4, 5, 1])
>>> [text.decode() for text in tokenizer.detokenize(tokenizer.tokenize(["cab", "a?"])).numpy()]
['cab', 'a\ufffd']
"""

import io
import json
import logging

import numpy as np

from applications.skeleton.errors import FlagError

logger = logging.getLogger(__name__)

KINDS = ("char", "sentencepiece", "gpt2")
PAD_ID, UNK_ID = 0, 1  # char and SentencePiece: id 0 pads, id 1 is the unknown token
CHAR_FILE, SENTENCEPIECE_FILE = "tokenizer.json", "tokenizer.model"
GPT2_VOCABULARY_FILE, GPT2_MERGES_FILE = "vocabulary.json", "merges.txt"
UNKNOWN_TEXT = "\ufffd"


class CharacterTokenizer:
    """One id per character of the training text (see the module doc).

    Args:
        characters: the vocabulary, distinct single characters (ids 2, 3, ... in this order).
    """

    kind = "char"
    pad_id = PAD_ID
    never_generated = (PAD_ID, UNK_ID)

    def __init__(self, characters):
        import tensorflow as tf

        characters = list(characters)
        if len(set(characters)) != len(characters) or any(len(c) != 1 for c in characters):
            raise ValueError("`characters` must be distinct single characters.")
        self.characters = characters
        self.vocabulary_size = len(characters) + 2
        self._codes = np.array([ord(c) for c in characters], np.int64)
        order = np.argsort(self._codes)
        self._sorted_codes, self._sorted_ids = self._codes[order], (order + 2).astype(np.int32)
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(self._codes), tf.range(2, self.vocabulary_size,
                                                                                 dtype=tf.int64)),
            default_value=UNK_ID,
        )
        self.pieces = tf.constant(["", UNKNOWN_TEXT, *characters])

    @classmethod
    def train(cls, text):
        """The vocabulary of `text`: its distinct characters, sorted."""
        return cls(sorted(set(text)))

    @property
    def start_ids(self):
        return [int(self.encode("\n")[0])]

    def encode(self, text):
        codes = np.frombuffer(text.encode("utf-32-le"), "<u4").astype(np.int64)
        where = np.clip(np.searchsorted(self._sorted_codes, codes), 0, max(0, len(self._sorted_codes) - 1))
        found = self._sorted_codes[where] == codes if len(self._sorted_codes) else np.zeros(len(codes), bool)
        return np.where(found, self._sorted_ids[where], UNK_ID).astype(np.int32)

    def decode(self, ids):
        return "".join(self.characters[i - 2] if i >= 2 else (UNKNOWN_TEXT if i == UNK_ID else "") for i in ids)

    def tokenize(self, strings):
        """`(batch,)` strings -> ragged `(batch, None)` int32 ids (bad UTF-8 becomes the unknown id)."""
        import tensorflow as tf

        codes = tf.strings.unicode_decode(strings, "UTF-8", errors="replace")  # ragged int32
        return tf.cast(tf.ragged.map_flat_values(self.table.lookup, tf.cast(codes, tf.int64)), tf.int32)

    def detokenize(self, ids):
        """`(batch, length)` ids (dense or ragged) -> `(batch,)` strings."""
        import tensorflow as tf

        return tf.strings.reduce_join(tf.gather(self.pieces, ids), axis=-1)

    def assets(self):
        return {CHAR_FILE: json.dumps({"kind": "char", "characters": self.characters}, ensure_ascii=False).encode()}

    @classmethod
    def from_assets(cls, read):
        return cls(json.loads(read(CHAR_FILE).decode("utf-8"))["characters"])


class SentencePieceTokenizer:
    """SentencePiece with byte fallback (see the module doc), trained on the training text's lines."""

    kind = "sentencepiece"
    pad_id = PAD_ID
    never_generated = (0, 1, 2, 3)  # padding, unknown (byte fallback spells everything), start, end

    def __init__(self, proto):
        import sentencepiece

        from applications.text.tokenizer import SubwordTokenizer

        self.proto = bytes(proto)
        self.processor = sentencepiece.SentencePieceProcessor(model_proto=self.proto)
        self.subword = SubwordTokenizer(self.proto)
        self.vocabulary_size = int(self.processor.get_piece_size())

    @classmethod
    def train(cls, text, vocabulary_size):
        from applications.text.tokenizer import train_sentencepiece

        lines = [line for line in text.split("\n") if line]
        try:
            proto = train_sentencepiece(lines, vocabulary_size, byte_fallback=True)
        except RuntimeError as error:  # e.g. a vocabulary too small for the byte pieces
            raise FlagError(f"--vocabulary-size {vocabulary_size}: SentencePiece cannot train it "
                            f"({str(error).strip().splitlines()[-1][:200]}); try 1000 or more") from None
        tokenizer = cls(proto)
        logger.info("Trained a SentencePiece vocabulary of %d pieces (byte fallback).", tokenizer.vocabulary_size)
        return tokenizer

    @property
    def start_ids(self):
        return self.processor.encode("\n")

    def encode(self, text):
        lines = text.split("\n")
        newline = self.processor.encode("\n")
        encoded = self.processor.encode(lines)
        ids = []
        for index, line in enumerate(encoded):
            ids += line
            if index < len(lines) - 1:
                ids += newline
        return np.asarray(ids, np.int32)

    def decode(self, ids):
        return self.processor.decode([int(i) for i in ids if i != PAD_ID])

    def tokenize(self, strings):
        return self.subword.tokenize(strings)

    def detokenize(self, ids):
        return self.subword.detokenize(ids)

    def ensure_resource(self):
        self.subword.ensure_resource()

    def assets(self):
        return {SENTENCEPIECE_FILE: self.proto}

    @classmethod
    def from_assets(cls, read):
        return cls(read(SENTENCEPIECE_FILE))


class GPT2Tokenizer:
    """GPT-2's byte-level BPE through keras-hub's `GPT2Tokenizer` (see the module doc)."""

    kind = "gpt2"

    def __init__(self, vocabulary, merges):
        import keras_hub

        self.vocabulary = dict(vocabulary)
        self.merges = list(merges)
        # The TensorFlow path (ragged tensors) in eager code too, as in tf.data and the SavedModel.
        self.keras_hub_tokenizer = keras_hub.tokenizers.GPT2Tokenizer(vocabulary=self.vocabulary, merges=self.merges,
                                                                      _allow_python_workflow=False)
        self.vocabulary_size = int(self.keras_hub_tokenizer.vocabulary_size())
        self.end_id = int(self.keras_hub_tokenizer.end_token_id)
        self.pad_id = self.end_id  # never attended to: padding sits after each row's tokens

    @classmethod
    def from_keras_hub(cls, tokenizer):
        return cls(tokenizer.vocabulary, tokenizer.merges)

    @property
    def start_ids(self):
        return [self.end_id]  # GPT-2 starts a document after <|endoftext|>

    def encode(self, text):
        return np.asarray(self.tokenize(tf_constant([text])).flat_values, np.int32)

    def decode(self, ids):
        import tensorflow as tf

        return self.detokenize(tf.constant([list(ids)], tf.int32)).numpy()[0].decode("utf-8", errors="replace")

    def tokenize(self, strings):
        return self._graph("tokenize", strings)

    def detokenize(self, ids):
        return self._graph("detokenize", ids)

    def _graph(self, name, inputs):
        """keras-hub's TensorFlow path, traced (eagerly it returns Python lists for ragged outputs)."""
        import tensorflow as tf

        if tf.executing_eagerly():
            if not hasattr(self, "_functions"):
                self._functions = {"tokenize": tf.function(self._graph_tokenize),
                                   "detokenize": tf.function(self.keras_hub_tokenizer.detokenize)}
            return self._functions[name](inputs)
        return self._graph_tokenize(inputs) if name == "tokenize" else self.keras_hub_tokenizer.detokenize(inputs)

    def _graph_tokenize(self, strings):
        import tensorflow as tf

        return tf.cast(self.keras_hub_tokenizer(strings), tf.int32)

    def assets(self):
        merges = "".join(f"{merge}\n" for merge in self.merges)
        return {GPT2_VOCABULARY_FILE: json.dumps(self.vocabulary, ensure_ascii=False).encode(),
                GPT2_MERGES_FILE: merges.encode("utf-8")}

    @classmethod
    def from_assets(cls, read):
        vocabulary = json.loads(read(GPT2_VOCABULARY_FILE).decode("utf-8"))
        merges = [line for line in io.StringIO(read(GPT2_MERGES_FILE).decode("utf-8")).read().split("\n") if line]
        return cls(vocabulary, merges)


def tf_constant(values):
    import tensorflow as tf

    return tf.constant(values)


_CLASSES = {"char": CharacterTokenizer, "sentencepiece": SentencePieceTokenizer, "gpt2": GPT2Tokenizer}


def train_tokenizer(kind, text, vocabulary_size=None):
    """A `char` or `sentencepiece` tokenizer trained on `text`."""
    if kind == "char":
        return CharacterTokenizer.train(text)
    if kind == "sentencepiece":
        return SentencePieceTokenizer.train(text, vocabulary_size)
    raise FlagError(f"--tokenizer {kind}: choose char or sentencepiece (gpt2 comes with --init keras_hub:<preset>)")


def load_tokenizer(kind, read):
    """The tokenizer of `kind` from its asset files; `read(name)` returns a file's bytes."""
    if kind not in _CLASSES:
        raise ValueError(f"Unknown tokenizer kind {kind!r}; known: {', '.join(KINDS)}")
    return _CLASSES[kind].from_assets(read)
