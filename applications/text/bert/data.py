"""The BERT family's data: text files in, static-shape `tf.data` pipelines out.

Files (UTF-8, `.gz` allowed, `-` reads stdin; blank lines are skipped):

- a **corpus** (`pretrain`, masked-LM `evaluate`): plain text, one example a line (`lines`), or
  the lines' tokens run together and cut into windows (`windows`);
- a **labelled file** (`finetune`, classifier `evaluate`): `text<TAB>label` lines, or
  `text_a<TAB>text_b<TAB>label` for sentence pairs; every line has the same number of columns.

Every example is packed as BERT packs it: `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]` (segment
ids 0 for `[CLS] a [SEP]`, 1 for `b [SEP]`), truncated to `sequence_length` (a pair loses tokens
from its longer side first), padded with id 0; `padding_mask` is 1 on real tokens.

**Masking** (the masked-LM objective, in the pipeline, after batching): of each sequence's real
tokens (not `[CLS]`, `[SEP]` or padding) `round(0.15 n)` (at least 1, at most
`max_predictions = ceil(0.15 sequence_length)`) are chosen uniformly without replacement; each
chosen token becomes `[MASK]` with probability 0.8, a random token (no special token) with
0.1, and stays itself with 0.1. The model sees `mask_positions` `(batch, max_predictions)` and
predicts `labels` `(batch, max_predictions)`: the original ids at the chosen positions and 0
(`[PAD]`, which the loss and accuracy ignore) in unused slots. So the loss is computed only on
the chosen positions, and the shapes are static. The random draws are stateless, seeded by
`(seed, batch number)`: the same seed gives the same masks, and each epoch of a repeated
pipeline gets new ones (dynamic masking, as RoBERTa).

Example:

>>> import numpy as np
>>> from applications.text.bert.tokenizers import WordPieceTokenizer
>>> tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c"])
>>> packed = pack(tokenizer, tokenizer.tokenize(["a b", "c"]), tokenizer.tokenize(["c c", "a b c"]), 7)
>>> packed["token_ids"].numpy().tolist()
[[2, 5, 6, 3, 7, 7, 3], [2, 7, 3, 5, 6, 7, 3]]
>>> packed["segment_ids"].numpy().tolist()[1], packed["padding_mask"].numpy().tolist()[0]
([0, 0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1])
"""

import dataclasses
import gzip
import io
import logging
import math
import sys

import tensorflow as tf

from applications.skeleton.errors import UserError

logger = logging.getLogger(__name__)

MASK_RATE = 0.15
MASK_TOKEN_FRACTION = 0.8  # of the chosen tokens: [MASK]
RANDOM_TOKEN_FRACTION = 0.1  # a random token; the remaining 0.1 stay as they are
EXAMPLE_MODES = ("lines", "windows")


class TextFileError(UserError):
    """A corpus or labelled file that cannot be used; the message names the file and line."""


def _lines(path):
    """`(number, line)` of the non-blank lines of a text file (`.gz`, `-` = stdin)."""
    path = str(path)
    try:
        if path == "-":
            file = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")
        else:
            file = (gzip.open if path.endswith(".gz") else open)(path, "rt", encoding="utf-8", newline="\n")
    except FileNotFoundError:
        raise TextFileError(f"No such file: {path}") from None
    except IsADirectoryError:
        raise TextFileError(f"{path} is a folder, not a text file") from None
    try:
        with file:
            for number, line in enumerate(file, start=1):
                line = line.rstrip("\r\n")
                if line.strip():
                    yield number, line
    except UnicodeDecodeError as error:
        raise TextFileError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except (OSError, EOFError) as error:
        raise TextFileError(f"{path} cannot be read: {error}") from None


def read_corpus(path):
    """The non-blank lines of a corpus, stripped. Raises `TextFileError` for an empty corpus.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "corpus.txt")
    >>> _ = open(path, "w", encoding="utf-8").write("In the beginning\\n\\n  God created \\n")
    >>> read_corpus(path)
    ['In the beginning', 'God created']
    """
    texts = [line.strip() for _, line in _lines(path)]
    if not texts:
        raise TextFileError(f"{path}: the corpus is empty (no line with text)")
    return texts


@dataclasses.dataclass
class LabelledTexts:
    """A labelled file: `texts` (first column), `pairs` (second column or `None`), `labels`, and
    the line number of each example (for messages)."""

    path: str
    texts: list
    pairs: list
    labels: list
    line_numbers: list

    @property
    def text_pairs(self):
        return self.pairs is not None

    def first_line_of(self, label):
        return self.line_numbers[self.labels.index(label)]


def read_labelled(path):
    """Read `text<TAB>label` (or `text_a<TAB>text_b<TAB>label`) lines.

    Raises `TextFileError` naming the file and line: no tab (no label), an empty text or label,
    more than three columns, a column count that differs from the first line's, or no line.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "train.tsv")
    >>> _ = open(path, "w", encoding="utf-8").write("good film\\tpos\\nawful\\tneg\\n")
    >>> data = read_labelled(path)
    >>> data.texts, data.labels, data.text_pairs
    (['good film', 'awful'], ['pos', 'neg'], False)
    """
    columns, first = None, None
    texts, pairs, labels, numbers = [], [], [], []
    for number, line in _lines(path):
        cells = line.split("\t")
        if len(cells) == 1:
            raise TextFileError(f"{path}, line {number}: no label: expected 'text<TAB>label' (or "
                                f"'text_a<TAB>text_b<TAB>label'), found no tab: {line[:60]!r}")
        if len(cells) > 3:
            raise TextFileError(f"{path}, line {number}: {len(cells)} tab-separated columns; expected 2 "
                                f"(text, label) or 3 (text_a, text_b, label): {line[:60]!r}")
        if columns is None:
            columns, first = len(cells), number
        elif len(cells) != columns:
            raise TextFileError(f"{path}, line {number}: {len(cells)} columns, but line {first} has {columns} "
                                f"(every line must be 'text<TAB>label', or every line 'text_a<TAB>text_b<TAB>label')")
        cells = [cell.strip() for cell in cells]
        if not cells[-1]:
            raise TextFileError(f"{path}, line {number}: the label is empty: {line[:60]!r}")
        if not all(cells[:-1]):
            raise TextFileError(f"{path}, line {number}: the text is empty: {line[:60]!r}")
        texts.append(cells[0])
        if columns == 3:
            pairs.append(cells[1])
        labels.append(cells[-1])
        numbers.append(number)
    if not texts:
        raise TextFileError(f"{path}: no labelled lines (the file is empty)")
    return LabelledTexts(str(path), texts, pairs if columns == 3 else None, labels, numbers)


# -- packing ----------------------------------------------------------------------------------


def _truncate_rows(ids, keep):
    """Ragged `(B, None)` ids cut to `keep[b]` ids in row `b`."""
    positions = tf.ragged.range(ids.row_lengths())
    return tf.ragged.boolean_mask(ids, positions < tf.expand_dims(keep, 1))


def pack(tokenizer, ids_a, ids_b=None, sequence_length=64):
    """Ragged ids -> `{"token_ids", "segment_ids", "padding_mask"}`, each `(batch, sequence_length)`
    int32 (see the module doc)."""
    ids_a = tf.cast(ids_a, tf.int32)
    rows = ids_a.nrows()
    cls = tf.RaggedTensor.from_tensor(tf.fill([rows, 1], tokenizer.cls_id))
    sep = tf.RaggedTensor.from_tensor(tf.fill([rows, 1], tokenizer.sep_id))
    if ids_b is None:
        first = tf.concat([cls, ids_a[:, : sequence_length - 2], sep], axis=1)
        tokens, segments = first, tf.zeros_like(first)
    else:
        ids_b = tf.cast(ids_b, tf.int32)
        budget = tf.constant(sequence_length - 3, tf.int64)
        length_a, length_b = ids_a.row_lengths(), ids_b.row_lengths()  # int64
        keep_b = tf.minimum(length_b, tf.maximum(budget // 2, budget - length_a))  # the longer side loses first
        keep_a = tf.minimum(length_a, budget - keep_b)
        first = tf.concat([cls, _truncate_rows(ids_a, keep_a), sep], axis=1)
        second = tf.concat([_truncate_rows(ids_b, keep_b), sep], axis=1)
        tokens = tf.concat([first, second], axis=1)
        segments = tf.concat([tf.zeros_like(first), tf.ones_like(second)], axis=1)
    shape = [None, sequence_length]
    return {
        "token_ids": tokens.to_tensor(default_value=tokenizer.pad_id, shape=shape),
        "segment_ids": segments.to_tensor(default_value=0, shape=shape),
        "padding_mask": tf.ones_like(tokens).to_tensor(default_value=0, shape=shape),
    }


# -- masking ----------------------------------------------------------------------------------


def max_predictions(sequence_length, rate=MASK_RATE):
    """Slots for chosen tokens per sequence: `ceil(rate * sequence_length)`.

    >>> max_predictions(64), max_predictions(128)
    (10, 20)
    """
    return max(1, math.ceil(rate * sequence_length))


def mask_tokens(token_ids, tokenizer, seed, rate=MASK_RATE, predictions=None):
    """BERT's masking of a batch (see the module doc).

    Args:
        token_ids: `(batch, length)` int32 packed ids.
        tokenizer: for the special and random ids.
        seed: `(2,)` int seed of the stateless draws.
        rate: the fraction of real tokens chosen.
        predictions: slots per sequence (default `max_predictions(length, rate)`).

    Returns:
        `(masked_ids, mask_positions, labels)`: `(batch, length)`, `(batch, P)`, `(batch, P)`.
    """
    shape = tf.shape(token_ids)
    length = token_ids.shape[1]
    predictions = predictions or max_predictions(length, rate)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=4)
    candidate = ((token_ids != tokenizer.pad_id) & (token_ids != tokenizer.cls_id)
                 & (token_ids != tokenizer.sep_id))  # (B, T)
    real = tf.reduce_sum(tf.cast(candidate, tf.int32), axis=1)  # (B,)
    chosen = tf.cast(tf.round(rate * tf.cast(real, tf.float32)), tf.int32)
    chosen = tf.minimum(tf.minimum(tf.maximum(chosen, 1), predictions), real)  # (B,)
    scores = tf.where(candidate, tf.random.stateless_uniform(shape, seeds[0]), -1.0)  # (B, T)
    _, positions = tf.math.top_k(scores, k=predictions)  # (B, P): a uniform sample without replacement
    used = tf.range(predictions)[None, :] < chosen[:, None]  # (B, P)
    positions = tf.where(used, positions, 0)
    labels = tf.where(used, tf.gather(token_ids, positions, batch_dims=1), 0)  # (B, P); 0 = ignored
    # Replacements: [MASK] (80 %), a random token (10 %), the token itself (10 %).
    draw = tf.random.stateless_uniform(tf.shape(positions), seeds[1])
    low, high = tokenizer.random_range
    random_ids = tf.random.stateless_uniform(tf.shape(positions), seeds[2], minval=low, maxval=high, dtype=tf.int32)
    replacement = tf.where(draw < MASK_TOKEN_FRACTION, tokenizer.mask_id,
                           tf.where(draw < MASK_TOKEN_FRACTION + RANDOM_TOKEN_FRACTION, random_ids, labels))
    slots = tf.one_hot(positions, length, dtype=tf.int32) * tf.cast(used, tf.int32)[:, :, None]  # (B, P, T)
    replaced = tf.reduce_max(slots, axis=1) > 0  # (B, T)
    new_ids = tf.reduce_sum(slots * replacement[:, :, None], axis=1)  # (B, T); positions are distinct
    return tf.where(replaced, new_ids, token_ids), positions, labels


# -- pipelines --------------------------------------------------------------------------------


def windows_of(tokenizer, texts, sequence_length, source="the corpus"):
    """The texts' tokens run together and cut into `(N, sequence_length - 2)` windows.

    Raises `TextFileError` when there are fewer tokens than one window.
    """
    flat = tokenizer.tokenize(list(texts)).flat_values.numpy()
    width = sequence_length - 2
    count = len(flat) // width
    if count < 1:
        raise TextFileError(
            f"{source} has {len(flat)} tokens, fewer than one window of {width} (--sequence-length "
            f"{sequence_length} less [CLS] and [SEP]); lower --sequence-length or use --examples lines"
        )
    return flat[: count * width].reshape(count, width)


def masked_lm_dataset(examples, tokenizer, batch_size, sequence_length, seed=0, shuffle=False, repeat=False,
                      drop_remainder=True):
    """`({"token_ids", "segment_ids", "padding_mask", "mask_positions"}, labels)` batches.

    Args:
        examples: a list of strings (one example each), or an int array of windows
            `(N, sequence_length - 2)` (`windows_of`).
        tokenizer: a tokenizer of `applications.text.bert.tokenizers`.
        batch_size, sequence_length: the static shapes.
        seed: the shuffling and masking seed.
        shuffle, repeat, drop_remainder: as in `tf.data`.
    """
    windows = not isinstance(examples, (list, tuple))
    dataset = tf.data.Dataset.from_tensor_slices(examples if windows else tf.constant(list(examples)))
    if shuffle:
        dataset = dataset.shuffle(len(examples), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder).enumerate()

    def encode(index, batch):
        if windows:
            packed = pack(tokenizer, tf.RaggedTensor.from_tensor(tf.cast(batch, tf.int32)), None, sequence_length)
        else:
            packed = pack(tokenizer, tokenizer.tokenize(batch), None, sequence_length)
        masked, positions, labels = mask_tokens(packed["token_ids"], tokenizer, tf.stack([tf.cast(seed, tf.int64), index]))
        features = dict(packed, token_ids=masked, mask_positions=positions)
        if drop_remainder:
            features = {name: tf.ensure_shape(value, [batch_size, value.shape[1]]) for name, value in features.items()}
            labels = tf.ensure_shape(labels, [batch_size, labels.shape[1]])
        return features, labels

    return dataset.map(encode, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def classification_dataset(texts, pairs, labels, tokenizer, batch_size, sequence_length, seed=0, shuffle=False,
                           repeat=False, drop_remainder=True):
    """`({"token_ids", "segment_ids", "padding_mask"}, labels)` batches; `labels` are class
    indices (or `None`: features alone) and `pairs` the second texts (or `None`)."""
    columns = [tf.constant(list(texts))]
    if pairs is not None:
        columns.append(tf.constant(list(pairs)))
    if labels is not None:
        columns.append(tf.constant(list(labels), tf.int32))
    dataset = tf.data.Dataset.from_tensor_slices(tuple(columns))
    if shuffle:
        dataset = dataset.shuffle(len(texts), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)

    def encode(*batch):
        ids_a = tokenizer.tokenize(batch[0])
        ids_b = tokenizer.tokenize(batch[1]) if pairs is not None else None
        features = pack(tokenizer, ids_a, ids_b, sequence_length)
        if drop_remainder:
            features = {name: tf.ensure_shape(value, [batch_size, sequence_length]) for name, value in features.items()}
        if labels is None:
            return features
        return features, (tf.ensure_shape(batch[-1], [batch_size]) if drop_remainder else batch[-1])

    return dataset.map(encode, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
