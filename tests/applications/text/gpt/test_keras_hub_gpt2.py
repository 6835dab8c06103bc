"""`from_keras_hub_gpt2`: logits equal keras-hub's (sequence output times the token table) for a
small random `GPT2Backbone`, cached generation from the imported model equals its full pass,
and `gpt train --init keras_hub:<preset folder>` fine-tunes it with the preset's tokenizer."""

import json

import keras
import keras_hub
import numpy as np
import pytest

from applications import cli
from applications.text.gpt import from_keras_hub_gpt2
from applications.text.gpt.generator import Generator
from applications.text.gpt.tokenizers import GPT2Tokenizer

VOCABULARY = {"<|endoftext|>": 0, **{chr(c): i + 1 for i, c in enumerate(range(33, 127))}, "Ġ": 95, "Ġt": 96,
              "he": 97, "Ġthe": 98, "Ċ": 99}
MERGES = ["Ġ t", "h e", "Ġt he"]


@pytest.fixture(scope="module")
def backbone():
    keras.utils.set_random_seed(1)
    return keras_hub.models.GPT2Backbone(vocabulary_size=100, num_layers=2, num_heads=2, hidden_dim=16,
                                         intermediate_dim=32, dropout=0.0, max_sequence_length=16)


def test_logits_equal_keras_hub(backbone):
    model = from_keras_hub_gpt2(backbone)
    ids = np.random.default_rng(0).integers(0, 100, (2, 11)).astype("int32")
    hidden = backbone({"token_ids": ids, "padding_mask": np.ones_like(ids)})
    theirs = np.asarray(backbone.token_embedding(hidden, reverse=True))
    ours = np.asarray(model(ids))
    assert ours.shape == (2, 11, 100)
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    assert model.get_layer("decoder").blocks[0].activation == "gelu_approximate"


def test_cached_generation_equals_the_full_pass(backbone):
    model = from_keras_hub_gpt2(backbone)
    generator = Generator(model, GPT2Tokenizer(VOCABULARY, MERGES), context=16)
    prompt = [5, 17, 98, 40]
    [new] = generator.continue_ids(prompt, 6)
    ids = list(prompt)
    for _ in range(6):  # the reference: keras-hub's own full pass over the whole prefix, every step
        hidden = backbone({"token_ids": np.array([ids]), "padding_mask": np.ones((1, len(ids)))})
        ids.append(int(np.argmax(np.asarray(backbone.token_embedding(hidden, reverse=True))[0, -1])))
    assert prompt + new == ids


def test_train_init_from_a_preset_folder_with_its_tokenizer(backbone, tmp_path, capsys):
    preset = tmp_path / "gpt2_preset"
    backbone.save_to_preset(str(preset))
    keras_hub.tokenizers.GPT2Tokenizer(vocabulary=VOCABULARY, merges=MERGES).save_to_preset(str(preset))
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat.\nthe dog ate the hat!\n" * 20, encoding="utf-8")
    out = tmp_path / "run"
    capsys.readouterr()
    assert cli.main(["gpt", "train", "--data", str(corpus), "--out", str(out), "--init", f"keras_hub:{preset}",
                     "--sequence-length", "8", "--batch-size", "4", "--max-steps", "2", "--checkpoint-every", "0",
                     "--strategy", "default", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    info = json.loads((out / "run.json").read_text())
    assert info["preprocessing"]["tokenizer"] == "gpt2" and info["model_config"]["sequence_length"] == 16
    assert summary["num_parameters"] == backbone.count_params()
    assert cli.main(["gpt", "generate", "--model", str(out), "--prompt", "the", "--max-new-tokens", "3",
                     "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["prompt"] == "the" and isinstance(result["continuation"], str)


def test_a_preset_without_its_tokenizer_is_one_line(backbone, tmp_path, caplog):
    preset = tmp_path / "backbone_only"
    backbone.save_to_preset(str(preset))
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat\n" * 50, encoding="utf-8")
    assert cli.main(["gpt", "train", "--data", str(corpus), "--out", str(tmp_path / "run"), "--init",
                     f"keras_hub:{preset}", "--strategy", "default"]) == 2
    assert "holds no GPT-2 tokenizer" in caplog.text and str(preset) in caplog.text
