"""The book-kind classification set (`data/text/bible_books_*.tsv.gz`) is present, well-formed
and split as `data/README.md` says, and `applications.datasets` reads it."""

import doctest
import gzip
import importlib.util
from collections import Counter

import pytest

from applications import datasets

KINDS = {"law", "history", "poetry_wisdom", "prophets", "gospels_acts", "letters", "apocalypse"}
SCRIPTS = datasets.shipped_data_dir().parent / "scripts"


@pytest.fixture(scope="module")
def books():
    return {split: datasets.read_bible_books(split) for split in ("train", "test")}


def test_files_are_small_gzipped_tsv():
    for split, path in datasets.bible_books_paths().items():
        assert path.is_file() and path.stat().st_size < 300_000, path
        with gzip.open(path, "rt", encoding="utf-8") as file:
            for number, line in enumerate(file, start=1):
                text, label = line.rstrip("\n").split("\t")
                assert text and text.strip() == text and "<" not in text, (split, number)
                assert label in KINDS, (split, number)


def test_splits_are_balanced_and_disjoint(books):
    test_counts = Counter(label for _, label in books["test"])
    assert test_counts == {kind: 150 for kind in KINDS}
    train_counts = Counter(label for _, label in books["train"])
    assert set(train_counts) == KINDS and min(train_counts.values()) > 200 and len(books["train"]) > 3500
    train_texts, test_texts = {t for t, _ in books["train"]}, {t for t, _ in books["test"]}
    assert not train_texts & test_texts
    assert len(train_texts) == len(books["train"]) and len(test_texts) == len(books["test"])  # no repeats


def test_pretraining_text_leaves_out_the_test_verses(books):
    test_texts = {text for text, _ in books["test"]}
    everything = datasets.bible_english_text().splitlines()
    kept = datasets.bible_english_text(exclude=test_texts).splitlines()
    assert len(everything) > 29000 and not set(kept) & test_texts
    assert len(everything) - len(kept) >= 0.8 * len(test_texts)  # most test verses are in the corpus


def test_build_script_examples():
    spec = importlib.util.spec_from_file_location("build_bible_books", SCRIPTS / "build_bible_books.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
    assert set(module.BOOK_KINDS) == KINDS and len(module.KIND_OF_BOOK) == 66
