"""Sentence pairs from a TSV file, and the static-shape `tf.data` pipeline.

A pair file is UTF-8 text (optionally gzip-compressed, `.gz`) with one
`source<TAB>target` pair per line, as in the Tatoeba/Anki files; columns after
the second (Tatoeba's attribution) are ignored, blank lines skipped.

Every batch has the static shapes `(batch_size, max_length)` (padded with
`PAD_ID`, `drop_remainder=True`), so one XLA program serves the whole run, on
CPU, GPU and TPU alike.
"""

import gzip
import logging
import random

import tensorflow as tf

from applications.skeleton.errors import UserError
from applications.text.tokenizer import END_ID, PAD_ID, START_ID

logger = logging.getLogger(__name__)


class PairFileError(UserError):
    """A pair file that cannot be read; the message names the file and line."""


def read_pairs(path):
    """Read `[(source, target), ...]` from a TSV file (`.gz` allowed; `-` reads stdin).

    Raises `PairFileError` naming the line of the first malformed line (no
    tab, or an empty side), or when the file holds no pair at all.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "pairs.tsv")
    >>> _ = open(path, "w", encoding="utf-8").write("Go.\\tVa !\\tCC-BY 2.0\\n\\nHi.\\tSalut.\\n")
    >>> read_pairs(path)
    [('Go.', 'Va !'), ('Hi.', 'Salut.')]
    """
    path = str(path)
    if path == "-":
        import io
        import sys

        opener = lambda name, *args, **kwargs: io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")  # noqa: E731
        path = "<stdin>"
    else:
        opener = gzip.open if path.endswith(".gz") else open
    pairs = []
    try:
        with opener(path, "rt", encoding="utf-8", newline="\n") as file:
            for number, line in enumerate(file, start=1):
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                columns = line.split("\t")
                if len(columns) < 2:
                    raise PairFileError(
                        f"{path}, line {number}: expected 'source<TAB>target', found no tab: {line[:60]!r}"
                    )
                source, target = columns[0].strip(), columns[1].strip()
                if not source or not target:
                    side = "source" if not source else "target"
                    raise PairFileError(f"{path}, line {number}: the {side} sentence is empty: {line[:60]!r}")
                pairs.append((source, target))
    except UnicodeDecodeError as error:
        raise PairFileError(f"{path}: not UTF-8 text ({error}).") from None
    except (gzip.BadGzipFile, EOFError) as error:
        raise PairFileError(f"{path}: not a complete gzip file ({error}).") from None
    if not pairs:
        raise PairFileError(f"{path}: no sentence pairs found (the file is empty).")
    return pairs


def split_pairs(pairs, validation_fraction=0.05, test_fraction=0.0, seed=0):
    """Shuffle with `seed` and split into `(train, validation, test)` lists.

    The same pairs and seed always give the same split. Each non-zero
    fraction keeps at least one pair, and training keeps at least one.

    >>> train, validation, test = split_pairs([(str(i), str(i)) for i in range(10)], 0.2, 0.1)
    >>> len(train), len(validation), len(test)
    (7, 2, 1)
    """
    for name, value in (("validation_fraction", validation_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"`{name}` must be in [0, 1). Received: {name}={value}")
    pairs = list(pairs)
    random.Random(seed).shuffle(pairs)
    count = len(pairs)
    num_validation = max(1, round(count * validation_fraction)) if validation_fraction else 0
    num_test = max(1, round(count * test_fraction)) if test_fraction else 0
    if num_validation + num_test >= count:
        raise ValueError(
            f"{count} pairs are too few to split off {num_validation} validation and {num_test} test pairs."
        )
    test = pairs[:num_test]
    validation = pairs[num_test : num_test + num_validation]
    return pairs[num_test + num_validation :], validation, test


def encode_source(tokenizer, texts, max_length):
    """Strings -> `(batch, max_length)` int32 source ids: pieces, end id, padding.

    Longer sources are cut to `max_length` (the end id kept last).
    """
    ids = tokenizer.tokenize(texts)[:, : max_length - 1]
    ends = tf.fill([ids.nrows(), 1], END_ID)
    ids = tf.concat([ids, tf.RaggedTensor.from_tensor(ends)], axis=1)
    return ids.to_tensor(default_value=PAD_ID, shape=[None, max_length])


def _encode_target(tokenizer, texts, max_length):
    """Strings -> decoder inputs `[start, pieces...]` and labels `[pieces..., end]`."""
    ids = tokenizer.tokenize(texts)[:, :max_length]
    batch = ids.nrows()
    starts = tf.RaggedTensor.from_tensor(tf.fill([batch, 1], START_ID))
    ends = tf.RaggedTensor.from_tensor(tf.fill([batch, 1], END_ID))
    inputs = tf.concat([starts, ids], axis=1).to_tensor(default_value=PAD_ID, shape=[None, max_length])
    labels = tf.concat([ids, ends], axis=1).to_tensor(default_value=PAD_ID, shape=[None, max_length])
    return inputs, labels


def filter_by_length(pairs, tokenizer, max_length):
    """Keep the pairs whose source and target fit `max_length` with their start/end ids."""
    if not pairs:
        return []
    sources = tokenizer.tokenize([source for source, _ in pairs]).row_lengths().numpy()
    targets = tokenizer.tokenize([target for _, target in pairs]).row_lengths().numpy()
    kept = [pair for pair, s, t in zip(pairs, sources, targets) if s < max_length and t < max_length]
    if len(kept) < len(pairs):
        logger.info(
            "Dropped %d of %d pairs longer than max_length=%d tokens.", len(pairs) - len(kept), len(pairs), max_length
        )
    return kept


def make_dataset(pairs, tokenizer, batch_size, max_length, shuffle=False, seed=0, repeat=False):
    """A `tf.data.Dataset` of `({"encoder_token_ids", "decoder_token_ids"}, labels)`.

    All three are `(batch_size, max_length)` int32 with padding `PAD_ID`;
    tokenization runs inside the pipeline. The last incomplete batch is
    dropped, so shapes are static.
    """
    if len(pairs) < batch_size:
        raise ValueError(
            f"`batch_size` is larger than the number of pairs. Received: batch_size={batch_size}, "
            f"pairs={len(pairs)}"
        )
    tokenizer.ensure_resource()  # the pipeline captures it
    sources = tf.constant([source for source, _ in pairs])
    targets = tf.constant([target for _, target in pairs])
    dataset = tf.data.Dataset.from_tensor_slices((sources, targets))
    if shuffle:
        dataset = dataset.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=True)

    def encode(source, target):
        encoder_ids = encode_source(tokenizer, source, max_length)
        decoder_ids, labels = _encode_target(tokenizer, target, max_length)
        static = lambda x: tf.ensure_shape(x, [batch_size, max_length])  # noqa: E731
        features = {"encoder_token_ids": static(encoder_ids), "decoder_token_ids": static(decoder_ids)}
        return features, static(labels)

    return dataset.map(encode, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
