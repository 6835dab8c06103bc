"""Pair files: reading, errors with line numbers, deterministic splits, static batches."""

import gzip

import pytest

from applications.text.translation.data import PairFileError, make_dataset, read_pairs, split_pairs
from applications.text.tokenizer import END_ID, PAD_ID, START_ID, SubwordTokenizer


def _write(tmp_path, text, name="pairs.tsv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_pairs_ignoring_extra_columns_and_blank_lines(tmp_path):
    path = _write(tmp_path, "Go.\tVe.\tCC-BY 2.0 (France) Attribution\n\nÉl ríe.\tHe laughs.\r\n")
    assert read_pairs(path) == [("Go.", "Ve."), ("Él ríe.", "He laughs.")]


def test_reads_gzip(tmp_path):
    path = tmp_path / "pairs.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as file:
        file.write("a\tb\n")
    assert read_pairs(path) == [("a", "b")]


@pytest.mark.parametrize(
    "text, message",
    [
        ("a\tb\nno tab here\nc\td\n", "line 2: expected 'source<TAB>target'"),
        ("a\tb\nc\td\n\t  \n", None),  # whitespace-only line: skipped
        ("a\tb\n\tmissing source\n", "line 2: the source sentence is empty"),
        ("a\tb\nc\td\nsource only\t\n", "line 3: the target sentence is empty"),
    ],
)
def test_malformed_line_names_its_number(tmp_path, text, message):
    path = _write(tmp_path, text)
    if message is None:
        assert len(read_pairs(path)) == 2
        return
    with pytest.raises(PairFileError, match=message):
        read_pairs(path)


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_file_is_a_clear_error(tmp_path, text):
    with pytest.raises(PairFileError, match="no sentence pairs"):
        read_pairs(_write(tmp_path, text))


def test_not_utf8_is_a_clear_error(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("caf\u00e9\tcoffee\n".encode("latin-1"))
    with pytest.raises(PairFileError, match="not UTF-8"):
        read_pairs(path)


def test_split_is_deterministic_and_disjoint():
    pairs = [(f"s{i}", f"t{i}") for i in range(100)]
    first, second = split_pairs(pairs, 0.1, 0.2, seed=3), split_pairs(pairs, 0.1, 0.2, seed=3)
    assert first == second
    train, validation, test = first
    assert (len(train), len(validation), len(test)) == (70, 10, 20)
    assert sorted(train + validation + test) == sorted(pairs)
    assert split_pairs(pairs, 0.1, 0.2, seed=4)[0] != train
    with pytest.raises(ValueError, match="validation_fraction"):
        split_pairs(pairs, 1.0)


def test_batches_have_static_shapes_and_shifted_targets():
    pairs = [("one two three", "un deux trois"), ("four", "quatre"), ("five six", "cinq six")] * 4
    tokenizer = SubwordTokenizer.train([s for pair in pairs for s in pair], vocabulary_size=30)
    dataset = make_dataset(pairs, tokenizer, batch_size=5, max_length=24)
    for spec in list(dataset.element_spec[0].values()) + [dataset.element_spec[1]]:
        assert spec.shape.as_list() == [5, 24]
    batches = list(dataset)
    assert len(batches) == 2  # 12 pairs -> two full batches, the rest dropped
    features, labels = batches[0]
    decoder_ids, labels, source = (features["decoder_token_ids"].numpy(), labels.numpy(),
                                   features["encoder_token_ids"].numpy())
    assert (decoder_ids[:, 0] == START_ID).all()
    # Labels are the decoder inputs shifted left, ending with the end id.
    length = int((labels[0] != PAD_ID).sum())
    assert labels[0, length - 1] == END_ID
    assert decoder_ids[0, 1:length].tolist() == labels[0, : length - 1].tolist()
    assert source[0, int((source[0] != PAD_ID).sum()) - 1] == END_ID
