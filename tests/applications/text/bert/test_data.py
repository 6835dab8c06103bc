import numpy as np
import pytest
import tensorflow as tf

from applications.skeleton.errors import UserError
from applications.text.bert.data import (
    mask_tokens, masked_lm_dataset, max_predictions, pack, read_corpus, read_labelled, windows_of,
)
from applications.text.bert.tokenizers import WordPieceTokenizer
from keras_attn.training import MaskedAccuracy, MaskedSparseCategoricalCrossentropy

VOCABULARY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(995)]


@pytest.fixture(scope="module")
def tokenizer():
    return WordPieceTokenizer(VOCABULARY)


def _random_batch(rng, batch, length, tokenizer):
    """Packed rows of random real tokens with random lengths (2..length-2) and padding."""
    ids = np.zeros((batch, length), np.int32)
    for row in range(batch):
        real = rng.integers(2, length - 1)
        ids[row, 0] = tokenizer.cls_id
        ids[row, 1 : real + 1] = rng.integers(5, len(VOCABULARY), size=real)
        ids[row, real + 1] = tokenizer.sep_id
    return ids


def test_masking_statistics(tokenizer):
    rng = np.random.default_rng(0)
    ids = _random_batch(rng, 3000, 64, tokenizer)
    masked, positions, labels = (t.numpy() for t in mask_tokens(tf.constant(ids), tokenizer, seed=[0, 1]))
    assert positions.shape == labels.shape == (3000, max_predictions(64))
    real = (ids >= 5)
    used = labels != 0
    # 15 % of the real tokens are chosen (each sequence: round(0.15 n), at least 1) ...
    assert abs(used.sum() / real.sum() - 0.15) < 0.01
    rows = np.arange(len(ids))[:, None]
    chosen = np.zeros_like(real)
    chosen[np.broadcast_to(rows, positions.shape)[used], positions[used]] = True
    assert not (chosen & ~real).any()  # never [CLS], [SEP] or padding
    assert chosen.sum() == used.sum()  # positions are distinct
    assert (labels[used] == ids[np.broadcast_to(rows, positions.shape)[used], positions[used]]).all()
    # ... of those 80 % become [MASK], 10 % a random token, 10 % stay.
    new = masked[chosen]
    original = ids[chosen]
    mask_share = (new == tokenizer.mask_id).mean()
    kept_share = (new == original).mean()
    random_share = 1.0 - mask_share - kept_share
    assert abs(mask_share - 0.8) < 0.015 and abs(kept_share - 0.1) < 0.01 and abs(random_share - 0.1) < 0.01
    assert (new[(new != tokenizer.mask_id)] >= 5).all()  # random tokens are never special
    assert (masked[~chosen] == ids[~chosen]).all()  # nothing else changes


def test_masking_is_seeded(tokenizer):
    ids = tf.constant(_random_batch(np.random.default_rng(1), 8, 32, tokenizer))
    first, second, other = (mask_tokens(ids, tokenizer, seed) for seed in ([3, 0], [3, 0], [3, 1]))
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not np.array_equal(first[1], other[1])


def test_loss_and_accuracy_only_on_chosen_positions(tokenizer):
    ids = tf.constant(_random_batch(np.random.default_rng(2), 16, 32, tokenizer))
    _, _, labels = mask_tokens(ids, tokenizer, seed=[0, 0])
    labels = labels.numpy()
    logits = np.random.default_rng(3).normal(size=(*labels.shape, len(VOCABULARY))).astype("float32")
    used = labels != 0
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -np.take_along_axis(log_probs, labels[..., None], -1)[..., 0][used].mean()
    loss = MaskedSparseCategoricalCrossentropy(ignore_class=0)
    assert np.isclose(float(loss(labels, logits)), expected, rtol=1e-5)
    changed = logits.copy()
    changed[~used] = 100.0 * np.random.default_rng(4).normal(size=changed[~used].shape)  # unused slots
    assert np.isclose(float(loss(labels, changed)), expected, rtol=1e-5)
    accuracy = MaskedAccuracy(ignore_class=0)
    accuracy.update_state(labels, changed)
    assert np.isclose(float(accuracy.result()), (logits.argmax(-1) == labels)[used].mean())


def test_masked_lm_dataset_has_static_shapes(tokenizer):
    texts = [" ".join(f"w{i}" for i in range(n, n + 20)) for n in range(40)]
    dataset = masked_lm_dataset(texts, tokenizer, 8, 16, seed=0, shuffle=True, repeat=True)
    features, labels = next(iter(dataset))
    assert {name: tuple(t.shape) for name, t in features.items()} == {
        "token_ids": (8, 16), "segment_ids": (8, 16), "padding_mask": (8, 16), "mask_positions": (8, 3)}
    assert tuple(labels.shape) == (8, 3)
    assert (features["token_ids"].numpy()[:, 0] == tokenizer.cls_id).all()
    assert (features["token_ids"].numpy()[:, -1] == tokenizer.sep_id).all()  # cut to 14 tokens + [SEP]


def test_windows(tokenizer):
    windows = windows_of(tokenizer, ["w5 w6 w7", "w8 w9", "w10 w11 w12"], 6)
    assert windows.tolist() == [[10, 11, 12, 13], [14, 15, 16, 17]]  # 8 tokens -> two windows of 4
    with pytest.raises(UserError, match=r"corpus.txt has 3 tokens, fewer than one window of 4"):
        windows_of(tokenizer, ["w5 w6 w7"], 6, source="corpus.txt")


def test_pack_truncates_the_longer_side_first(tokenizer):
    a = tokenizer.tokenize(["w5 w5 w5 w5 w5 w5 w5 w5", "w5 w5"])
    b = tokenizer.tokenize(["w6 w6", "w6 w6 w6 w6 w6 w6 w6 w6"])
    packed = pack(tokenizer, a, b, 10)
    ids, segments = packed["token_ids"].numpy(), packed["segment_ids"].numpy()
    assert ids[0].tolist() == [2, 10, 10, 10, 10, 10, 3, 11, 11, 3]
    assert ids[1].tolist() == [2, 10, 10, 3, 11, 11, 11, 11, 11, 3]
    assert segments[1].tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
    assert packed["padding_mask"].numpy().all()


def test_readers(tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("a b\tc d\tyes\n\nx\ty\tno\n", encoding="utf-8")
    data = read_labelled(pairs)
    assert data.text_pairs and data.pairs == ["c d", "y"] and data.labels == ["yes", "no"]
    assert data.line_numbers == [1, 3]
    mixed = tmp_path / "mixed.tsv"
    mixed.write_text("a\tyes\nb\tc\tno\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"mixed.tsv, line 2: 3 columns, but line 1 has 2"):
        read_labelled(mixed)
    empty_label = tmp_path / "empty_label.tsv"
    empty_label.write_text("a\tyes\nb\t \n", encoding="utf-8")
    with pytest.raises(UserError, match=r"empty_label.tsv, line 2: the label is empty"):
        read_labelled(empty_label)
    blank = tmp_path / "blank.txt"
    blank.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(UserError, match=r"blank.txt: the corpus is empty"):
        read_corpus(blank)
    with pytest.raises(UserError, match=r"No such file: .*missing.txt"):
        read_corpus(tmp_path / "missing.txt")
