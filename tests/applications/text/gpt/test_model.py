"""The GPT model: causal (later tokens never change earlier logits), saves and loads under
safe mode, rotary or learned positions, tied or untied output."""

import keras
import numpy as np
import pytest

from applications.text.gpt.model import EMBEDDING, GPTConfig


@pytest.mark.parametrize("positions", ["learned", "rotary"])
def test_changing_later_tokens_never_changes_earlier_logits(positions, tiny_model):
    model, _ = tiny_model(positions=positions)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 12, (2, 8)).astype("int32")
    changed = ids.copy()
    changed[:, 5:] = rng.integers(0, 12, (2, 3))
    before, after = np.asarray(model(ids)), np.asarray(model(changed))
    np.testing.assert_allclose(before[:, :5], after[:, :5], atol=1e-6)
    assert not np.allclose(before[:, 5:], after[:, 5:])


def test_save_and_load_under_safe_mode(tmp_path, tiny_model):
    model, _ = tiny_model(positions="rotary")
    ids = np.array([[1, 2, 3, 4]], "int32")
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(ids)), np.asarray(model(ids)), atol=1e-6)


def test_tied_output_reuses_the_token_table(tiny_model):
    tied, _ = tiny_model()
    from applications.text.gpt.model import build_gpt_model

    untied = build_gpt_model(GPTConfig(vocabulary_size=12, sequence_length=8, num_layers=2, hidden_dim=16,
                                       num_heads=2, intermediate_dim=32, tie_weights=False))
    assert untied.count_params() == tied.count_params() + 12 * 16
    assert tied.get_layer(EMBEDDING).token_embedding.tie_weights
    assert GPTConfig.from_dict(dict(GPTConfig(5, 4).to_dict(), unknown=1)) == GPTConfig(5, 4)
