"""BERT's tokenizers: WordPiece (the default) or SentencePiece, both TensorFlow ops.

Both give the same interface: `tokenize(texts)` (ragged `(batch, None)` int32 ids, no special
tokens), `detokenize(ids)`, `vocabulary_size`, the special ids `pad_id` (always 0), `unk_id`,
`cls_id`, `sep_id`, `mask_id`, and `random_range`, the `[low, high)` ids a masked-LM objective
draws its random replacements from (no special token inside). They run inside `tf.data` and in a
SavedModel (which needs `import tensorflow_text` in the serving process: the ops are TF Text's).

- `WordPieceTokenizer`: the vocabulary is trained with keras-hub's
  `compute_word_piece_vocabulary` (TF Text's WordPiece learner) with the reserved tokens
  `[PAD] [UNK] [CLS] [SEP] [MASK]` at ids 0-4, and applied with `tensorflow_text.FastBertTokenizer`
  (BERT's basic tokenizer: lower-casing and accent stripping when `lowercase`, splitting on
  whitespace and punctuation, then greedy longest-match WordPiece with `##` continuations). Any
  BERT vocabulary works (keras-hub presets put `[UNK]` at 100 and `[CLS]` at 101): the special
  ids are looked up by token. The run asset is `vocabulary.txt`, one token a line.
- `SentencePieceBertTokenizer`: the translation family's `SubwordTokenizer` (unigram
  SentencePiece, ids 0-3 are pad, unk, start, end) with `[CLS]` = its start id, `[SEP]` = its end
  id and `[MASK]` one id past its pieces. The run asset is `tokenizer.model`.

Example:

>>> texts = ["In the beginning God created the heavens.", "God saw the light."] * 20
>>> tokenizer = WordPieceTokenizer.train(texts, vocabulary_size=60)
>>> tokenizer.vocabulary[:5], tokenizer.cls_id, tokenizer.mask_id
(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'], 2, 4)
>>> ids = tokenizer.tokenize(["God created the light."])
>>> [text.decode() for text in tokenizer.detokenize(ids).numpy()]
['god created the light .']
"""

import logging

import tensorflow as tf
import tensorflow_text as tf_text

from applications.skeleton.errors import UserError

logger = logging.getLogger(__name__)

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
RESERVED_TOKENS = (PAD, UNK, CLS, SEP, MASK)
VOCABULARY_FILE = "vocabulary.txt"
SENTENCEPIECE_FILE = "tokenizer.model"
KINDS = ("wordpiece", "sentencepiece")


class WordPieceTokenizer(tf.Module):
    """Text <-> WordPiece ids (see the module doc).

    Args:
        vocabulary: list of tokens; must hold `[PAD]` (at id 0), `[UNK]`, `[CLS]`, `[SEP]` and
            `[MASK]`.
        lowercase: lower-case and strip accents first (uncased BERT).
    """

    kind = "wordpiece"

    def __init__(self, vocabulary, lowercase=True, name=None):
        super().__init__(name=name)
        vocabulary = [str(token) for token in vocabulary]
        missing = [token for token in RESERVED_TOKENS if token not in vocabulary]
        if missing:
            raise ValueError(f"The vocabulary lacks the special token(s) {missing}. Received: {len(vocabulary)} tokens")
        if vocabulary[0] != PAD:
            raise ValueError(f"The vocabulary must have [PAD] at id 0. Received: vocabulary[0]={vocabulary[0]!r}")
        self.vocabulary = vocabulary
        self.lowercase = bool(lowercase)
        self.vocabulary_size = len(vocabulary)
        ids = {token: index for index, token in enumerate(vocabulary)}
        self.pad_id, self.unk_id, self.cls_id, self.sep_id, self.mask_id = (ids[t] for t in RESERVED_TOKENS)
        low = 1 + max(self.pad_id, self.unk_id, self.cls_id, self.sep_id, self.mask_id)
        self.random_range = (low, self.vocabulary_size) if low < self.vocabulary_size else (0, self.vocabulary_size)
        self.fast_bert = tf_text.FastBertTokenizer(
            vocab=vocabulary, suffix_indicator="##", unknown_token=UNK, token_out_type=tf.int32,
            lower_case_nfd_strip_accents=self.lowercase, support_detokenization=True,
        )

    @classmethod
    def train(cls, texts, vocabulary_size=4000, lowercase=True):
        """Learn a vocabulary of about `vocabulary_size` tokens from `texts` (keras-hub's trainer)."""
        import keras_hub

        texts = [text for text in texts if text.strip()]
        if not texts:
            raise UserError("Cannot train a WordPiece vocabulary on no text.")
        dataset = tf.data.Dataset.from_tensor_slices(texts).batch(1000)
        vocabulary = keras_hub.tokenizers.compute_word_piece_vocabulary(
            dataset, vocabulary_size, lowercase=lowercase, strip_accents=lowercase,
            reserved_tokens=list(RESERVED_TOKENS),
        )
        logger.info("Trained a WordPiece vocabulary of %d tokens.", len(vocabulary))
        return cls(vocabulary, lowercase=lowercase)

    def tokenize(self, texts):
        """`(batch,)` strings -> ragged `(batch, None)` int32 ids (no special tokens)."""
        return self.fast_bert.tokenize(texts)

    def detokenize(self, ids):
        """`(batch, length)` ids (dense or ragged) -> `(batch,)` strings; special ids are dropped."""
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.RaggedTensor.from_tensor(tf.convert_to_tensor(ids, tf.int32))
        ids = tf.ragged.boolean_mask(ids, ids >= self.random_range[0])  # the special ids come first
        return self.fast_bert.detokenize(ids)

    def id_to_token(self, ids):
        """A list of token strings for a list of ids."""
        return [self.vocabulary[int(i)] for i in ids]

    def asset(self):
        """`(file name, bytes)` of the run asset."""
        return VOCABULARY_FILE, "".join(f"{token}\n" for token in self.vocabulary).encode("utf-8")

    def preprocessing(self):
        return {"tokenizer": self.kind, "vocabulary": VOCABULARY_FILE, "lowercase": self.lowercase}

    @classmethod
    def from_file(cls, path, lowercase=True):
        with open(path, encoding="utf-8") as file:
            return cls([line.rstrip("\n") for line in file if line.rstrip("\n")], lowercase=lowercase)


class SentencePieceBertTokenizer(tf.Module):
    """BERT's special tokens on a SentencePiece model (see the module doc).

    Args:
        proto: the serialized SentencePiece model (`applications.text.tokenizer.train_sentencepiece`).
    """

    kind = "sentencepiece"
    lowercase = False

    def __init__(self, proto, name=None):
        super().__init__(name=name)
        from applications.text.tokenizer import END_ID, PAD_ID, START_ID, UNK_ID, SubwordTokenizer

        self.subword = SubwordTokenizer(proto)
        self.proto = self.subword.proto
        self.pad_id, self.unk_id, self.cls_id, self.sep_id = PAD_ID, UNK_ID, START_ID, END_ID
        self.mask_id = self.subword.vocabulary_size  # one past the pieces
        self.vocabulary_size = self.subword.vocabulary_size + 1
        self.random_range = (END_ID + 1, self.mask_id)

    @classmethod
    def train(cls, texts, vocabulary_size=4000, lowercase=False):
        from applications.text.tokenizer import train_sentencepiece

        texts = [text for text in texts if text.strip()]
        if not texts:
            raise UserError("Cannot train a SentencePiece vocabulary on no text.")
        return cls(train_sentencepiece(texts, vocabulary_size))

    def tokenize(self, texts):
        return self.subword.tokenize(texts)

    def detokenize(self, ids):
        if isinstance(ids, tf.RaggedTensor):
            ids = ids.to_tensor()
        ids = tf.convert_to_tensor(ids, tf.int32)
        ids = tf.where(ids == self.mask_id, self.unk_id, ids)
        return self.subword.detokenize(tf.where(ids == self.sep_id, self.pad_id, ids))

    def id_to_token(self, ids):
        pieces = self.subword.id_to_piece([min(int(i), self.mask_id - 1) for i in ids]).numpy()
        return [MASK if int(i) == self.mask_id else piece.decode("utf-8") for i, piece in zip(ids, pieces)]

    def asset(self):
        return SENTENCEPIECE_FILE, self.proto

    def preprocessing(self):
        return {"tokenizer": self.kind, "model": SENTENCEPIECE_FILE}


def train_tokenizer(texts, kind="wordpiece", vocabulary_size=4000, lowercase=True):
    """A tokenizer of `kind` (`"wordpiece"` or `"sentencepiece"`) trained on `texts`."""
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}. Received: kind={kind!r}")
    if kind == "wordpiece":
        return WordPieceTokenizer.train(texts, vocabulary_size, lowercase=lowercase)
    return SentencePieceBertTokenizer.train(texts, vocabulary_size)


def load_tokenizer(folder_file, preprocessing):
    """The tokenizer a run recorded in its `preprocessing`; `folder_file(name)` is the asset's path."""
    import os

    kind = preprocessing.get("tokenizer", "wordpiece")
    name = preprocessing.get("vocabulary" if kind == "wordpiece" else "model",
                             VOCABULARY_FILE if kind == "wordpiece" else SENTENCEPIECE_FILE)
    path = folder_file(name)
    if not os.path.isfile(path):
        raise UserError(f"The run's tokenizer file {path} is missing (the run folder is damaged)")
    if kind == "wordpiece":
        return WordPieceTokenizer.from_file(path, lowercase=preprocessing.get("lowercase", True))
    with open(path, "rb") as file:
        return SentencePieceBertTokenizer(file.read())
