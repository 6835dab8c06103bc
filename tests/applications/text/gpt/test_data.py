"""Corpus reading (file, folder, stdin, gzip; errors name the file and line), the split, the
random training windows and the evaluation windows."""

import gzip
import io

import numpy as np
import pytest

from applications.text.gpt.data import (
    IGNORE_LABEL, CorpusError, check_long_enough, evaluation_windows, read_corpus, split_corpus, steps_per_epoch,
    training_windows,
)


def test_file_folder_stdin_and_gzip(tmp_path):
    (tmp_path / "a.txt").write_text("first", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("second\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("not read", encoding="utf-8")
    # Sorted by path; a file without a final line break gets one.
    assert read_corpus(tmp_path) == "first\nsecond\n"
    assert read_corpus(tmp_path / "a.txt") == "first"
    with gzip.open(tmp_path / "c.txt.gz", "wt", encoding="utf-8") as file:
        file.write("zipped é")
    assert read_corpus(tmp_path / "c.txt.gz") == "zipped é"
    stdin = io.TextIOWrapper(io.BytesIO("from stdin ☃\n".encode()), encoding="utf-8")
    assert read_corpus("-", stdin=stdin) == "from stdin ☃\n"


@pytest.mark.parametrize("content, message", [
    (b"", "the corpus is empty"),
    (b"  \n\n", "the corpus is empty"),
    (b"good line\nbad \xff byte\n", r"not UTF-8 text: byte 14 \(line 2\)"),
])
def test_bad_files_name_the_file_and_line(tmp_path, content, message):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match=message) as error:
        read_corpus(path)
    assert str(error.value).startswith(f"{path}: ")


def test_missing_path_and_folder_without_text(tmp_path):
    with pytest.raises(CorpusError, match="no such file or folder"):
        read_corpus(tmp_path / "missing.txt")
    (tmp_path / "empty_folder").mkdir()
    with pytest.raises(CorpusError, match="holds no .txt files"):
        read_corpus(tmp_path / "empty_folder")
    with pytest.raises(CorpusError, match="fewer than one window of --sequence-length \\+ 1 = 9 tokens"):
        check_long_enough(np.arange(8), 8, "short.txt")


def test_split_is_the_last_fraction_of_the_characters():
    train, validation = split_corpus("x" * 90 + "y" * 10, 0.1)
    assert train == "x" * 90 and validation == "y" * 10
    assert split_corpus("abc", 0.0) == ("abc", "")
    assert steps_per_epoch(100, 12, 64) == 1


def test_training_windows_are_seeded_contiguous_and_shifted():
    ids = np.arange(1000, dtype=np.int32)
    batches = list(training_windows(ids, 16, 4, seed=3).take(3).as_numpy_iterator())
    again = list(training_windows(ids, 16, 4, seed=3).take(3).as_numpy_iterator())
    other = list(training_windows(ids, 16, 4, seed=4).take(1).as_numpy_iterator())
    for (inputs, labels), (same_inputs, _) in zip(batches, again):
        assert inputs.shape == labels.shape == (4, 16)
        np.testing.assert_array_equal(inputs, same_inputs)
        np.testing.assert_array_equal(labels, inputs + 1)  # the labels are the next tokens
        np.testing.assert_array_equal(np.diff(inputs, axis=1), 1)  # contiguous windows of the corpus
        assert inputs.min() >= 0 and labels.max() < 1000
    assert not np.array_equal(other[0][0], batches[0][0])
    starts = np.concatenate([inputs[:, 0] for inputs, _ in batches])
    assert len(set(starts.tolist())) > 6  # random places, not consecutive windows


def test_evaluation_windows_predict_every_token_but_the_first_once():
    ids = np.arange(3, 3 + 50)
    inputs, labels = evaluation_windows(ids, 16, batch_size=3)
    assert inputs.shape == (6, 16) and len(inputs) % 3 == 0
    counted = labels[labels != IGNORE_LABEL]
    np.testing.assert_array_equal(counted, ids[1:])
    np.testing.assert_array_equal(inputs[labels != IGNORE_LABEL], ids[:-1])
