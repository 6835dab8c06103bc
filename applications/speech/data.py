"""Reading audio clips and building static-shape `tf.data` pipelines.

Layouts:
- classification: a folder with one subfolder per class, each holding clips
  (`keywords/train/yes/*.flac`); the class names are the sorted subfolders.
- recognition: a CSV or TSV manifest (`.tsv` or tab in the first line: tab
  separated, otherwise commas) of `path,transcript` lines, paths relative to
  the manifest; a first line `path,transcript` is a header and skipped.

Audio is read with librosa (any format libsndfile reads: wav, flac, ogg, ...),
mixed down to mono and resampled to 16 kHz. A file that cannot be read, is
empty or silent-length zero raises `AudioFileError` naming it, or is skipped
(and logged) with `skip_bad_files=True`.

Training pipelines (`make_dataset`) can augment each clip's waveform on the fly
(`augmentation.py`: speed, pitch, gain, eq, noise, reverb; seeded), and carry the
transcriber's decoder sequences (`encode_decoder_sequences`: prompt + tokens in,
tokens + end as labels).

Example:

>>> import numpy as np
>>> audio, lengths = pad_clips([np.ones(3, "float32"), np.ones(5, "float32")], max_samples=4)
>>> audio.tolist(), lengths.tolist()
([[1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]], [3, 4])
"""

import csv
import logging
import os
import warnings
from pathlib import Path

import numpy as np

from applications.skeleton.errors import UserError

SAMPLE_RATE = 16000
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".au", ".w64", ".caf")

logger = logging.getLogger(__name__)


class AudioFileError(UserError):
    """An audio file is missing, unreadable, corrupt or empty; the message names it."""

    def __init__(self, path, reason):
        super().__init__(f"Cannot use audio file {os.fspath(path)!r}: {reason}")
        self.path = os.fspath(path)
        self.reason = reason


def load_audio(path, sample_rate=SAMPLE_RATE):
    """Mono float32 samples of `path` at `sample_rate` (librosa: mix-down, resampling).

    Raises:
        AudioFileError: the file is missing, unreadable or holds no samples.
    """
    import librosa  # imported here: librosa is slow to import

    path = Path(path)
    if not path.is_file():
        raise AudioFileError(path, "no such file")
    if path.stat().st_size == 0:
        raise AudioFileError(path, "the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():  # librosa warns before its audioread fallback; the error says it all
            warnings.simplefilter("ignore")
            audio, _ = librosa.load(path, sr=sample_rate, mono=True)
    except Exception as error:  # soundfile/audioread raise many types; report them all by name
        raise AudioFileError(path, f"unreadable or corrupt ({type(error).__name__}: {error})") from error
    if audio.size == 0:
        raise AudioFileError(path, "it holds no audio samples")
    if not np.all(np.isfinite(audio)):
        raise AudioFileError(path, "it holds NaN or infinite samples")
    return audio.astype("float32")


def load_clips(paths, skip_bad_files=False, sample_rate=SAMPLE_RATE):
    """Read many clips. Returns `(clips, kept_indices)`: the arrays, and for each the
    index of its path in `paths` (bad files are missing when skipped)."""
    clips, kept = [], []
    for index, path in enumerate(paths):
        try:
            clips.append(load_audio(path, sample_rate))
        except AudioFileError as error:
            if not skip_bad_files:
                raise
            logger.warning("Skipping %s", error)
            continue
        kept.append(index)
    if not clips:
        raise ValueError(f"No readable audio among {len(paths)} file(s).")
    return clips, kept


def pad_clips(clips, max_samples, names=None):
    """Zero-pad (or cut, with a warning naming them when `names` are given) clips to `max_samples`.

    Returns `(audio (N, max_samples) float32, sample_lengths (N,) int32)`.
    """
    audio = np.zeros((len(clips), max_samples), "float32")
    lengths = np.zeros((len(clips),), "int32")
    cut = []
    for row, clip in enumerate(clips):
        length = min(len(clip), max_samples)
        if len(clip) > max_samples:
            cut.append(f"{os.fspath(names[row])} ({len(clip) / SAMPLE_RATE:.2f} s)" if names is not None else None)
        audio[row, :length] = clip[:length]
        lengths[row] = length
    if cut:
        named = [name for name in cut if name is not None]
        which = ": " + ", ".join(named[:5]) + (f" and {len(named) - 5} more" if len(named) > 5 else "") if named else ""
        logger.warning(
            "%d clip(s) longer than the model's %.2f s (max_samples=%d) were cut to it%s. Cut long recordings "
            "into clips, or train with a larger --max-seconds.", len(cut), max_samples / SAMPLE_RATE, max_samples, which,
        )
    return audio, lengths


def list_class_folders(folder):
    """`(paths, labels, class_names)` of a folder holding one subfolder of clips per class (at
    least two), scanned by `applications.skeleton.files.list_class_folders` (no link cycles,
    no clip counted twice)."""
    from applications.skeleton.files import list_class_folders as scan

    class_names, paths, labels = scan(folder, AUDIO_EXTENSIONS, "audio clips")
    return [Path(path) for path in paths], np.asarray(labels, "int32"), class_names


def read_manifest(manifest):
    """`[(absolute path, transcript)]` of a CSV/TSV manifest (see the module doc)."""
    manifest = Path(manifest)
    text = manifest.read_text(encoding="utf-8")
    first = text.splitlines()[0] if text else ""
    delimiter = "\t" if manifest.suffix.lower() == ".tsv" or "\t" in first else ","
    pairs = []
    for number, row in enumerate(csv.reader(text.splitlines(), delimiter=delimiter), start=1):
        if not row or not "".join(row).strip():
            continue
        if number == 1 and [cell.strip().lower() for cell in row[:2]] == ["path", "transcript"]:
            continue
        if len(row) < 2:
            raise ValueError(f"{os.fspath(manifest)}:{number}: expected `path{delimiter}transcript`. Received: {row}")
        path = Path(row[0].strip())
        pairs.append((path if path.is_absolute() else manifest.parent / path, delimiter.join(row[1:]).strip()))
    if not pairs:
        raise ValueError(f"The manifest {os.fspath(manifest)!r} lists no clips.")
    return pairs


def is_manifest(data):
    """Whether `data` names a manifest file (recognition) rather than a folder."""
    return Path(data).is_file() and Path(data).suffix.lower() in (".csv", ".tsv", ".txt")


def encode_transcripts(transcripts, vocabulary, max_label_length=None):
    """`(N, max_label_length)` int32 ids padded with 0 (the blank)."""
    ids = [vocabulary.encode(text) for text in transcripts]
    length = max_label_length or max(1, max(len(row) for row in ids))
    labels = np.zeros((len(ids), length), "int32")
    for row, sequence in enumerate(ids):
        if len(sequence) > length:
            raise ValueError(f"Transcript longer than {length} characters: {transcripts[row]!r}")
        labels[row, : len(sequence)] = sequence
    return labels


def encode_decoder_sequences(transcripts, tokenizer, max_target_length, paths=None):
    """`(decoder inputs, labels)`, both `(N, max_target_length)` int32 padded with 0.

    Inputs are `prompt + tokens`, labels `tokens + end` shifted under them: the label at
    position `t` is the token after input `t`; the prompt's own positions get label 0 (not
    scored). A transcript too long for the decoder is cut, with a warning naming its clip.
    """
    prompt = list(tokenizer.prompt_ids)
    room = max_target_length - len(prompt)  # tokens plus the end token
    inputs = np.zeros((len(transcripts), max_target_length), "int32")
    labels = np.zeros((len(transcripts), max_target_length), "int32")
    for row, text in enumerate(transcripts):
        tokens = tokenizer.encode(text)
        if len(tokens) + 1 > room:
            logger.warning(
                "%s: the transcript has %d tokens, more than the decoder's %d; it is cut.",
                paths[row] if paths else f"transcript {row}", len(tokens), room - 1)
            tokens = tokens[: room - 1]
        sequence = prompt + tokens
        inputs[row, : len(sequence)] = sequence
        labels[row, len(prompt) - 1 : len(sequence)] = tokens + [tokenizer.end_id]
    return inputs, labels


def make_dataset(audio, sample_lengths, targets, batch_size, shuffle=False, seed=0, drop_remainder=True,
                 repeat=False, augment=(), extra_inputs=None):
    """A batched `tf.data.Dataset` of `({"audio", "sample_lengths", **extra_inputs}, targets)`.

    Shapes are static: every clip is padded to the same length, and with
    `drop_remainder` every batch has `batch_size` examples (one XLA program).
    With `repeat` the dataset is endless (train with `steps_per_epoch`): one
    iterator reshuffles at every pass, so the order of examples depends only
    on `seed`, not on how often a strategy re-creates iterators.

    `augment` names waveform augmentations (`augmentation.NAMES`: speed, pitch,
    gain, noise, reverb) applied on the fly to each clip, seeded by `seed` and
    the example's place in the stream; `extra_inputs` (`{name: (N, ...) array}`)
    are more model inputs (the transcriber's decoder ids). `targets` may be a
    dict of arrays (a model with several outputs).
    """
    import tensorflow as tf

    from applications.speech.augmentation import Augmentation

    inputs = {"audio": audio, "sample_lengths": sample_lengths, **(extra_inputs or {})}
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle:
        dataset = dataset.shuffle(len(audio), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    augmentation = Augmentation(augment, seed=seed)
    if augmentation:
        dataset = augmentation.map_dataset(dataset)
    return dataset.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
