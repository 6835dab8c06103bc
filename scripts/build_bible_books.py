"""Build the book-kind classification set shipped in `data/text/`: English Bible verses, each
labelled with the kind of book it comes from.

Source: the Debian package `sword-text-web` (World English Bible, module `engWEB2015eb`, public
domain), read with `pysword` from `/usr/share/sword` and cleaned exactly as the translation pairs
are (`clean_osis` of `scripts/build_bible_en_es.py`). Needs `pip install pysword` (a build-time
tool only: the shipped files need nothing but gzip).

Labels (the 66 books of the Protestant canon; the module's deuterocanonical books are left out):
  law                 Genesis - Deuteronomy (5 books)
  history             Joshua - Esther (12)
  poetry_wisdom       Job, Psalms, Proverbs, Ecclesiastes, Song of Songs (5)
  prophets            Isaiah - Malachi, Lamentations and Daniel included (17)
  gospels_acts        Matthew, Mark, Luke, John, Acts (5)
  letters             Romans - Jude (21)
  apocalypse          Revelation (1)

Splits, both balanced by class and chosen by the SHA-1 of the verse reference ("Gen.1.1"), so a
rebuild gives the same files:
  - texts that occur more than once in the canon ("Yahweh spoke to Moses, saying,", repeated
    refrains of the Psalms) are left out entirely: no text is in both splits and no text has two
    labels;
  - test: the first TEST_PER_CLASS verses of each class in hash order;
  - train: the next TRAIN_PER_CLASS verses of each class (Revelation has 404 verses, so its class
    keeps what is left after the test verses).
Parallel passages that differ by a word (Kings / Chronicles, the synoptic gospels) stay in: they
are different verses, and telling the books apart is the task.

Outputs (UTF-8, `text<TAB>label` per line, ordered by class then Bible order, gzip files with a
fixed timestamp so a rebuild is byte-identical):
  bible_books_train.tsv.gz
  bible_books_test.tsv.gz

Usage:
  python scripts/build_bible_books.py [--sword-dir /usr/share/sword] [--out-dir data/text]
"""

import argparse
import collections
import gzip
import hashlib
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_bible_en_es import ENGLISH_MODULE, read_verses  # noqa: E402

TEST_PER_CLASS = 150
TRAIN_PER_CLASS = 600

BOOK_KINDS = {
    "law": "Gen Exod Lev Num Deut",
    "history": "Josh Judg Ruth 1Sam 2Sam 1Kgs 2Kgs 1Chr 2Chr Ezra Neh Esth",
    "poetry_wisdom": "Job Ps Prov Eccl Song",
    "prophets": "Isa Jer Lam Ezek Dan Hos Joel Amos Obad Jonah Mic Nah Hab Zeph Hag Zech Mal",
    "gospels_acts": "Matt Mark Luke John Acts",
    "letters": "Rom 1Cor 2Cor Gal Eph Phil Col 1Thess 2Thess 1Tim 2Tim Titus Phlm Heb Jas 1Pet 2Pet 1John "
               "2John 3John Jude",
    "apocalypse": "Rev",
}
KIND_OF_BOOK = {book: kind for kind, books in BOOK_KINDS.items() for book in books.split()}


def labelled_verses(verses):
    """[(reference, text, kind)] of the canon's verses whose text occurs once, in Bible order.

    >>> verses = {("Gen", 1, 1): "In the beginning", ("Gen", 1, 2): "Amen.", ("Rev", 1, 1): "Amen.",
    ...           ("Tob", 1, 1): "Tobit"}
    >>> labelled_verses(verses)
    [('Gen.1.1', 'In the beginning', 'law')]
    """
    canon = [(key, text) for key, text in verses.items() if key[0] in KIND_OF_BOOK]
    counts = collections.Counter(text for _, text in canon)
    return [("%s.%d.%d" % key, text, KIND_OF_BOOK[key[0]]) for key, text in canon if counts[text] == 1]


def split_by_class(rows):
    """`(train, test)`: per class, TEST_PER_CLASS test verses then up to TRAIN_PER_CLASS train
    verses, by the SHA-1 of the reference; each list in class order, then Bible order."""
    order = {row[0]: index for index, row in enumerate(rows)}
    train, test = [], []
    for kind in BOOK_KINDS:
        ranked = sorted((row for row in rows if row[2] == kind),
                        key=lambda row: hashlib.sha1(row[0].encode()).hexdigest())
        if len(ranked) <= TEST_PER_CLASS:
            raise ValueError(f"class {kind} has only {len(ranked)} verses")
        test += sorted(ranked[:TEST_PER_CLASS], key=lambda row: order[row[0]])
        train += sorted(ranked[TEST_PER_CLASS:TEST_PER_CLASS + TRAIN_PER_CLASS], key=lambda row: order[row[0]])
    return train, test


def write_gzip_text(path, text):
    """gzip with mtime=0 and no file name in the header: the same text gives the same bytes."""
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                                compresslevel=9) as file:
        file.write(text.encode("utf-8"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sword-dir", type=Path, default=Path("/usr/share/sword"))
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "text")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    start = time.time()
    rows = labelled_verses(read_verses(args.sword_dir, ENGLISH_MODULE))
    logging.info("%d canon verses with a unique text (%.0f s); per class: %s", len(rows), time.time() - start,
                 dict(collections.Counter(kind for _, _, kind in rows)))
    train, test = split_by_class(rows)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, split in (("train", train), ("test", test)):
        path = args.out_dir / f"bible_books_{name}.tsv.gz"
        write_gzip_text(path, "".join(f"{text}\t{kind}\n" for _, text, kind in split))
        logging.info("wrote %s: %d verses, %d bytes, per class %s", path, len(split), path.stat().st_size,
                     dict(collections.Counter(kind for _, _, kind in split)))


if __name__ == "__main__":
    main()
