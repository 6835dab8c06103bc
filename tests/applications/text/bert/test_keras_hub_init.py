"""`bert finetune --init keras_hub:<preset folder>`, offline: a small random keras-hub
BertBackbone saved with `save_to_preset`, with and without its tokenizer."""

import json

import keras
import keras_hub
import numpy as np
import pytest
from bert_test_data import TINY, run_cli

from applications import cli, load
from applications.text.bert.keras_hub_conversion import from_keras_hub_bert

VOCABULARY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "alpha", "beta", "gamma", "light", "day", "water", "the",
              "of", "and", "night", "over", "land", "tree", "stone", "river", "bread", "house", "fire", "cloud", "##s"]


@pytest.fixture(scope="module")
def presets(tmp_path_factory):
    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.BertBackbone(vocabulary_size=len(VOCABULARY), num_layers=1, num_heads=2,
                                             hidden_dim=16, intermediate_dim=32, max_sequence_length=32)
    with_tokenizer, without = tmp_path_factory.mktemp("preset"), tmp_path_factory.mktemp("preset_no_tokenizer")
    backbone.save_to_preset(str(with_tokenizer))
    backbone.save_to_preset(str(without))
    keras_hub.models.BertTokenizer(vocabulary=VOCABULARY, lowercase=True).save_to_preset(str(with_tokenizer))
    return backbone, with_tokenizer, without


def test_finetune_from_a_keras_hub_preset(capsys, presets, bert_files, tmp_path):
    backbone, preset, _ = presets
    out = tmp_path / "run"
    summary = run_cli(capsys, "bert", "finetune", "--data", str(bert_files["train"]), "--out", str(out),
                      "--init", f"keras_hub:{preset}", "--sequence-length", "16", "--batch-size", "16",
                      "--max-steps", "2", "--learning-rate", "1e-9", "--no-xla", "--checkpoint-every", "0")
    assert summary["steps"] == 2
    info = json.loads((out / "run.json").read_text())
    assert (out / "vocabulary.txt").read_text().split() == VOCABULARY
    assert info["model_config"]["max_sequence_length"] == 32 and info["model_config"]["hidden_dim"] == 16
    # The encoder and pooler start from keras-hub's weights (a learning rate of 1e-9 keeps them).
    model = load(out).model
    inputs = {"token_ids": np.array([[2, 5, 11, 8, 3, 0]], "int32"), "segment_ids": np.zeros((1, 6), "int32"),
              "padding_mask": np.array([[1, 1, 1, 1, 1, 0]], "int32")}
    hub = backbone(inputs)
    np.testing.assert_allclose(np.asarray(model.encoder(inputs))[0, :5], np.asarray(hub["sequence_output"])[0, :5],
                               atol=1e-4)
    pooled = model.pooler(model.encoder(inputs))
    np.testing.assert_allclose(np.asarray(pooled), np.asarray(hub["pooled_output"]), atol=1e-4)


def test_preset_without_a_tokenizer_is_a_clear_error(capsys, caplog, presets, bert_files, tmp_path):
    _, _, without = presets
    code = cli.main(["bert", "finetune", "--data", str(bert_files["train"]), "--out", str(tmp_path / "run"),
                     "--init", f"keras_hub:{without}", *TINY])
    err = capsys.readouterr().err + caplog.text
    assert code == 2
    assert f"--init keras_hub:{without}: the preset has no BERT tokenizer" in err


def test_converted_encoder_matches_the_preset(presets):
    backbone, _, _ = presets
    inputs = {"token_ids": np.array([[2, 6, 7, 3]], "int32"), "segment_ids": np.array([[0, 0, 1, 1]], "int32"),
              "padding_mask": np.ones((1, 4), "int32")}
    np.testing.assert_allclose(np.asarray(from_keras_hub_bert(backbone)(inputs)),
                               np.asarray(backbone(inputs)["sequence_output"]), atol=1e-4)
