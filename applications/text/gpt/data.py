"""The GPT family's data: a text corpus -> token ids -> windows in `tf.data`.

A corpus is a UTF-8 text file (optionally `.gz`), a folder or `-` (standard input):

- a folder gives every `.txt` file below it (sub-folders included), in sorted order of
  their paths, concatenated; a file that does not end with a line break is followed by
  one, so each file starts on a new line;
- the validation text is the last `--validation-fraction` (default 10 %) of the corpus's
  characters, unless `--validation-data` names another corpus;
- problems name the file: an empty corpus, text that is not UTF-8 (with the byte offset
  and line), a folder without `.txt` files, a corpus shorter than one window.

Training samples random contiguous windows of `sequence_length + 1` tokens anywhere in the
training ids (as nanoGPT does), seeded, inside the `tf.data` pipeline: inputs are a
window's first `sequence_length` tokens, labels the same shifted by one. An epoch is
`tokens // (global batch * sequence_length)` steps (at least 1).

Evaluation reads the ids in consecutive windows that overlap by one token, so every token
but the first is predicted exactly once; the last window and the last batch are padded
(labels `IGNORE_LABEL`, not counted).

Example:

>>> import numpy as np
>>> inputs, labels = evaluation_windows(np.arange(1, 9), sequence_length=3, batch_size=2)
>>> inputs.tolist()
[[1, 2, 3], [4, 5, 6], [7, 0, 0], [0, 0, 0]]
>>> labels.tolist()
[[2, 3, 4], [5, 6, 7], [8, -1, -1], [-1, -1, -1]]
"""

import gzip
import os
import sys

import numpy as np

from applications.skeleton.errors import UserError

IGNORE_LABEL = -1  # padded label positions of evaluation windows (not counted)
STDIN = "-"


class CorpusError(UserError):
    """A corpus that cannot be used (the message names the file, and the line where there is one)."""


def _decode(data, name):
    """UTF-8 bytes -> text, or a `CorpusError` naming the byte offset and line of the first bad byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise CorpusError(
            f"{name}: not UTF-8 text: byte {error.start} (line {line}) is {data[error.start:error.start + 1]!r}; "
            "convert the file to UTF-8 (e.g. iconv -t UTF-8)"
        ) from None
    return text[1:] if text.startswith("\ufeff") else text  # a byte-order mark is not text


def _read_file(path):
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as file:
                return file.read()
        with open(path, "rb") as file:
            return file.read()
    except (OSError, EOFError) as error:
        raise CorpusError(f"{path}: cannot be read ({type(error).__name__}: {error})") from None


def text_files(folder):
    """Every `.txt` file below `folder`, sorted by path (links to folders are not followed)."""
    found = []
    for root, directories, files in os.walk(folder):
        directories.sort()
        found += [os.path.join(root, name) for name in files if name.lower().endswith(".txt")]
    return sorted(found)


def read_corpus(path, stdin=None):
    """The text of a corpus (file, folder or `-`); see the module doc.

    Raises:
        CorpusError: naming the file for a missing path, an empty corpus or text that is not UTF-8.
    """
    path = os.fspath(path)
    if path == STDIN:
        stream = stdin if stdin is not None else sys.stdin
        data = stream.buffer.read() if hasattr(stream, "buffer") else stream.read()
        text = _decode(data, "<stdin>") if isinstance(data, bytes) else data
        name = "<stdin>"
    elif os.path.isdir(path):
        files = text_files(path)
        if not files:
            raise CorpusError(f"{path}: the folder holds no .txt files")
        parts = []
        for file in files:
            part = _decode(_read_file(file), file)
            parts.append(part if part.endswith("\n") or not part else part + "\n")
        text, name = "".join(parts), path
    elif os.path.isfile(path):
        text, name = _decode(_read_file(path), path), path
    else:
        raise CorpusError(f"{path}: no such file or folder")
    if not text.strip():
        raise CorpusError(f"{name}: the corpus is empty (no text to learn from)")
    return text


def split_corpus(text, validation_fraction):
    """`(training text, validation text)`: the validation text is the last fraction of the characters.

    >>> split_corpus("abcdefghij", 0.2)
    ('abcdefgh', 'ij')
    """
    if not validation_fraction:
        return text, ""
    cut = len(text) - int(round(len(text) * float(validation_fraction)))
    return text[:cut], text[cut:]


def check_long_enough(ids, sequence_length, name, held_out=0.0, flag="--sequence-length"):
    """Raise `CorpusError` unless `ids` hold at least one window of `sequence_length + 1` tokens
    (`held_out`: the validation fraction taken from the corpus first, for the message)."""
    if len(ids) < sequence_length + 1:
        after = f" after holding out the last {held_out:.0%} for validation" if held_out else ""
        raise CorpusError(
            f"{name}: {len(ids)} tokens{after}, fewer than one window of {flag} + 1 = {sequence_length + 1} "
            f"tokens; give more text or lower {flag}"
        )


def steps_per_epoch(num_tokens, global_batch, sequence_length):
    """Optimizer steps of one epoch: the corpus's tokens in windows of the batch, at least 1.

    >>> steps_per_epoch(1_003_854, 12, 64)
    1307
    """
    return max(1, int(num_tokens) // (int(global_batch) * int(sequence_length)))


def training_windows(ids, sequence_length, global_batch, seed):
    """Batches of random contiguous windows, repeated forever: `(inputs, labels)`, each
    `(global_batch, sequence_length)` int32, the labels the inputs shifted by one token."""
    import tensorflow as tf

    corpus = tf.constant(np.asarray(ids, np.int32))  # (N,)
    starts = len(ids) - sequence_length  # a window [s, s + L] fits for s in [0, N - L - 1]
    offsets = tf.range(sequence_length + 1, dtype=tf.int64)

    def windows(draws):  # draws: (B,) int64
        start = tf.math.floormod(tf.abs(draws), starts)
        window = tf.gather(corpus, start[:, None] + offsets[None, :])  # (B, L + 1)
        return window[:, :-1], window[:, 1:]

    return (tf.data.Dataset.random(seed=seed).batch(global_batch, drop_remainder=True)
            .map(windows, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE))


def evaluation_windows(ids, sequence_length, batch_size, pad_id=0):
    """`(inputs, labels)` numpy int32 arrays `(windows, sequence_length)` covering `ids` (see the
    module doc), padded to a whole number of batches."""
    ids = np.asarray(ids, np.int32)
    count = max(1, -(-(len(ids) - 1) // sequence_length))  # windows that cover ids[1:]
    count = -(-count // batch_size) * batch_size
    inputs = np.full((count, sequence_length), pad_id, np.int32)
    labels = np.full((count, sequence_length), IGNORE_LABEL, np.int32)
    for row, start in enumerate(range(0, len(ids) - 1, sequence_length)):
        window = ids[start : start + sequence_length + 1]
        inputs[row, : len(window) - 1] = window[:-1]
        labels[row, : len(window) - 1] = window[1:]
    return inputs, labels


def evaluation_dataset(ids, sequence_length, batch_size, pad_id=0):
    """`evaluation_windows` as a batched `tf.data.Dataset` (static shapes)."""
    import tensorflow as tf

    inputs, labels = evaluation_windows(ids, sequence_length, batch_size, pad_id)
    return tf.data.Dataset.from_tensor_slices((inputs, labels)).batch(batch_size, drop_remainder=True)
