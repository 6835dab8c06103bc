"""Paths to, and small readers for, the real data shipped in the repository's `data/` folder.

The files are described in `data/README.md` (sources, licences, splits) and rebuilt by the
scripts in `scripts/`. Reading them needs only numpy and the standard library; the speech clips
are FLAC, read with soundfile or librosa. The paths resolve from a source checkout (or an
editable install), where `data/` sits next to `applications/`.

Example:

>>> from applications import datasets
>>> sorted(datasets.bible_en_es_paths())
['short', 'test', 'train']
>>> books = datasets.read_bible_books("test")
>>> len(books), books[0][1], sorted({label for _, label in books})[:3]
(1050, 'law', ['apocalypse', 'gospels_acts', 'history'])
>>> english = datasets.bible_english_text()
>>> english.splitlines()[0], len(english.splitlines())
('In the beginning, God created the heavens and the earth.', 29680)
>>> fashion = datasets.load_fashion_mnist()
>>> fashion["x_train"].shape, fashion["x_train"].dtype.name, len(fashion["class_names"])
((3000, 28, 28), 'uint8', 10)
>>> import tempfile
>>> folder = datasets.fashion_mnist_folders(tempfile.mkdtemp(), "test", limit_per_class=1)
>>> sorted(path.name for path in folder.iterdir())[:3]
['ankle_boot', 'bag', 'coat']
>>> transcripts = [text for _, text in datasets.read_speech_numbers("test")]
>>> all(set(text) <= set("abcdefghijklmnopqrstuvwxyz' ") for text in transcripts)
True
"""

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np


def shipped_data_dir():
    """Returns the repository's `data/` folder."""
    return Path(__file__).resolve().parents[1] / "data"


def bible_en_es_paths():
    """Returns the English-Spanish Bible verse files, `english<TAB>spanish` per line.

    Keys: `train` (all pairs but the test ones, gzip), `short` (the train pairs with at most 12
    English words, gzip) and `test` (300 held-out short pairs, plain text).
    """
    text = shipped_data_dir() / "text"
    return {
        "train": text / "bible_en_es.tsv.gz",
        "short": text / "bible_en_es_short.tsv.gz",
        "test": text / "bible_en_es_test.tsv",
    }


def bible_books_paths():
    """Returns the book-kind classification files, `verse<TAB>label` per line (gzip).

    Keys: `train` (3,851 verses) and `test` (1,050 verses, 150 per class); labels `law`, `history`,
    `poetry_wisdom`, `prophets`, `gospels_acts`, `letters`, `apocalypse`. No verse text is in both.
    """
    text = shipped_data_dir() / "text"
    return {"train": text / "bible_books_train.tsv.gz", "test": text / "bible_books_test.tsv.gz"}


def read_bible_books(split="train"):
    """Returns [(verse, label)] of one split of the book-kind classification set."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'. Received: split={split!r}")
    with gzip.open(bible_books_paths()[split], "rt", encoding="utf-8") as file:
        return [tuple(line.rstrip("\n").split("\t")) for line in file]


def bible_english_text(split="train", exclude=()):
    """Returns the English side of the shipped Bible verses as one string, one verse a line.

    `split` is a key of `bible_en_es_paths()`: `train` (29,680 verses, 3.84 million characters
    in Bible order, the text of the GPT demo and benchmark), `short` or `test`. Every verse ends
    with a line break. Verses whose text is in `exclude` are left out (e.g. a classification test
    split, to keep it out of BERT's pretraining text).
    """
    exclude = set(exclude)
    path = bible_en_es_paths()[split]
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as file:
        verses = (line.split("\t", 1)[0].rstrip("\n") for line in file)
        return "".join(f"{verse}\n" for verse in verses if verse not in exclude)


def load_fashion_mnist(npz_path=None):
    """Returns the Fashion-MNIST subset as a dict of numpy arrays.

    Keys: `x_train`, `x_test` (uint8, (N, 28, 28)), `y_train`, `y_test` (class indices) and
    `class_names` (folder-safe names, e.g. "t_shirt_top").
    """
    npz_path = npz_path or shipped_data_dir() / "vision" / "fashion_mnist_subset.npz"
    with np.load(npz_path) as data:
        return {name: data[name] for name in data.files}


def _png_bytes(image):
    """Encodes a 2-D uint8 array as an 8-bit greyscale PNG (no compression tricks, no deps)."""
    height, width = image.shape
    rows = b"".join(b"\x00" + row.tobytes() for row in np.ascontiguousarray(image, np.uint8))

    def chunk(kind, payload):
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit, greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def save_image_folders(images, labels, class_names, out_dir, limit_per_class=None):
    """Writes `out_dir/<class_name>/<index>.png` for each image, index being its position.

    Args:
        images: uint8 array, (N, height, width).
        labels: int array, (N,), indices into `class_names`.
        class_names: one folder name per class.
        out_dir: folder to write into (created).
        limit_per_class: keep only the first this many images of each class; None keeps all.

    Returns:
        `out_dir` as a `Path`.
    """
    out_dir = Path(out_dir)
    written = np.zeros(len(class_names), dtype=int)
    for name in class_names:
        (out_dir / str(name)).mkdir(parents=True, exist_ok=True)
    for index, (image, label) in enumerate(zip(images, labels)):
        if limit_per_class is not None and written[label] >= limit_per_class:
            continue
        path = out_dir / str(class_names[label]) / f"{index:05d}.png"
        path.write_bytes(_png_bytes(image))
        written[label] += 1
    return out_dir


def fashion_mnist_folders(out_dir, split="train", limit_per_class=None, npz_path=None):
    """Writes one split of the shipped Fashion-MNIST subset as class folders of PNG files.

    The layout, `out_dir/<class_name>/<index>.png`, is what
    `keras.utils.image_dataset_from_directory` reads. Returns `out_dir` as a `Path`.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'. Received: split={split!r}")
    data = load_fashion_mnist(npz_path)
    return save_image_folders(
        data[f"x_{split}"], data[f"y_{split}"], data["class_names"], out_dir, limit_per_class
    )


def speech_keywords_dir():
    """Returns the keyword clips folder: `<split>/<word>/<voice>_s<speed>_p<pitch>.flac`."""
    return shipped_data_dir() / "speech" / "keywords"


def speech_numbers_manifest(split="train"):
    """Returns the number-phrase manifest of a split: `path<TAB>transcript` per line, paths
    relative to the manifest."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'. Received: split={split!r}")
    return shipped_data_dir() / "speech" / "numbers" / f"{split}.tsv"


def speech_flite_keywords_dir():
    """Returns the keywords spoken by another synthesizer (flite), never trained on:
    `<word>/<voice>_d<stretch>_f<f0>.flac` (see data/README.md)."""
    return shipped_data_dir() / "speech" / "flite" / "keywords"


def speech_flite_numbers_manifest():
    """Returns the manifest of test numbers spoken by flite's voices (`path<TAB>transcript`)."""
    return shipped_data_dir() / "speech" / "flite" / "numbers" / "test.tsv"


def read_speech_numbers(split="train"):
    """Returns [(absolute clip path, transcript)] from the number-phrase manifest of a split
    (`"train"`, `"test"`, or `"flite"`: the test numbers spoken by flite's voices)."""
    manifest = speech_flite_numbers_manifest() if split == "flite" else speech_numbers_manifest(split)
    pairs = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        path, transcript = line.split("\t")
        pairs.append((manifest.parent / path, transcript))
    return pairs
