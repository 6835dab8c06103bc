"""Save and load, masks, the pre-norm option and a tiny classifier that learns."""

import keras
import numpy as np
import pytest

from applications.skeleton.loading import load_keras_model
from applications.text.bert import BertClassifier, BertEncoder, BertMaskedLM
from applications.text.bert.data import classification_dataset
from applications.text.bert.tokenizers import WordPieceTokenizer

SIZE = dict(vocabulary_size=30, num_layers=1, hidden_dim=16, num_heads=2, intermediate_dim=32, max_sequence_length=8)


def _inputs():
    return {"token_ids": np.array([[2, 7, 9, 3, 0, 0, 0, 0], [2, 5, 6, 8, 11, 3, 0, 0]], "int32"),
            "segment_ids": np.zeros((2, 8), "int32"),
            "padding_mask": np.array([[1, 1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 0, 0]], "int32")}


@pytest.mark.parametrize("norm_first", [False, True], ids=["post_norm", "pre_norm"])
def test_save_and_load_under_safe_mode(tmp_path, norm_first):
    encoder = BertEncoder(**SIZE, norm_first=norm_first, name="encoder")
    assert encoder.transformer.norm_first is norm_first
    assert (encoder.transformer.output_norm is not None) is norm_first  # pre-norm ends with a layer norm
    models = {"mlm": BertMaskedLM(encoder), "classifier": BertClassifier(encoder, 3, class_names=["a", "b", "c"],
                                                                         text_pairs=True)}
    for name, model in models.items():
        inputs = dict(_inputs(), mask_positions=np.array([[1, 2], [3, 0]], "int32")) if name == "mlm" else _inputs()
        path = str(tmp_path / f"{name}.keras")
        model.save(path)
        loaded = load_keras_model(path)
        assert type(loaded) is type(model)
        np.testing.assert_allclose(np.asarray(loaded(inputs)), np.asarray(model(inputs)), atol=1e-6)
    assert loaded.class_names == ["a", "b", "c"] and loaded.text_pairs


def test_padding_never_changes_real_positions():
    encoder = BertEncoder(**SIZE)
    inputs = _inputs()
    changed = dict(inputs, token_ids=np.where(inputs["padding_mask"] == 1, inputs["token_ids"], 17).astype("int32"))
    real = inputs["padding_mask"].astype(bool)
    np.testing.assert_allclose(np.asarray(encoder(changed))[real], np.asarray(encoder(inputs))[real], atol=1e-5)


def test_mlm_output_is_tied_to_the_token_table():
    model = BertMaskedLM(BertEncoder(**SIZE))
    table = model.encoder.token_embedding.embeddings
    assert any(weight is table for weight in model.get_layer("masked_lm_head").weights)
    assert sum(weight is table for weight in model.weights) == 1  # one table: input and output


def test_tiny_classifier_learns_a_tiny_task(keyword_task):
    """The label is the keyword in a sentence of filler words: above chance (1/3) by a margin."""
    keyword_lines, names = keyword_task
    keras.utils.set_random_seed(0)
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(
        set(" ".join(line.split("\t")[0] for line in keyword_lines(200, 0)).split()))
    tokenizer = WordPieceTokenizer(vocabulary)

    def dataset(lines, **options):
        texts, labels = zip(*(line.split("\t") for line in lines))
        return classification_dataset(texts, None, [names.index(label) for label in labels], tokenizer, 32, 12,
                                      **options)

    encoder = BertEncoder(len(vocabulary), num_layers=1, hidden_dim=32, num_heads=2, intermediate_dim=64,
                          max_sequence_length=12, dropout_rate=0.0)
    model = BertClassifier(encoder, 3, dropout_rate=0.0, class_names=names)
    model.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=False)
    model.fit(dataset(keyword_lines(320, 0), shuffle=True, repeat=True), steps_per_epoch=10, epochs=20, verbose=0)
    accuracy = model.evaluate(dataset(keyword_lines(128, 1)), verbose=0, return_dict=True)["accuracy"]
    assert accuracy > 0.6, accuracy
