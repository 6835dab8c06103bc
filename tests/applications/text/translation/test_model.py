"""The encoder-decoder model: masks, options, `.keras` round trip."""

import keras
import numpy as np
import pytest

from applications.text.translation.model import build_translator_model
from applications.text.translation.sizes import model_config


def _model(**options):
    keras.utils.set_random_seed(0)
    config = model_config("tiny", vocabulary_size=30, max_length=12, dropout_rate=0.0, **options)
    return build_translator_model(config), config


def _logits(model, source, target):
    return model({"encoder_token_ids": np.array([source]), "decoder_token_ids": np.array([target])}).numpy()[0]


SOURCE, TARGET = [5, 6, 7, 3, 0, 0, 0, 0], [2, 8, 9, 10, 0, 0]


@pytest.mark.parametrize("options", [{}, {"norm_first": False, "share_embeddings": False, "tie_weights": False}])
def test_source_padding_is_masked_in_encoder_and_cross_attention(options):
    model, _ = _model(**options)
    reference = _logits(model, SOURCE[:4], TARGET)  # no padding at all
    np.testing.assert_allclose(_logits(model, SOURCE, TARGET), reference, atol=1e-5)
    np.testing.assert_allclose(_logits(model, SOURCE + [0, 0, 0, 0], TARGET), reference, atol=1e-5)


def test_decoder_is_causal_and_target_padding_is_masked():
    model, _ = _model()
    base = _logits(model, SOURCE, TARGET)
    changed = _logits(model, SOURCE, TARGET[:3] + [11, 12, 13])  # new future tokens
    np.testing.assert_allclose(changed[:3], base[:3], atol=1e-5)
    assert np.abs(changed[3] - base[3]).max() > 1e-4
    np.testing.assert_allclose(_logits(model, SOURCE, TARGET[:4])[:4], base[:4], atol=1e-5)


def test_options_change_the_architecture():
    shared, _ = _model()
    separate, _ = _model(share_embeddings=False, tie_weights=False)
    names = {layer.name for layer in shared.layers}
    assert "encoder_embedding" not in names and "encoder_embedding" in {l.name for l in separate.layers}
    assert separate.count_params() > shared.count_params()
    post = _model(norm_first=False)[0]
    assert post.get_layer("encoder").norm_first is False and post.get_layer("decoder").output_norm is None


def test_keras_save_and_load_round_trip(tmp_path):
    model, config = _model()
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # safe_mode: no Lambda layers
    np.testing.assert_allclose(_logits(loaded, SOURCE, TARGET), _logits(model, SOURCE, TARGET), atol=1e-6)
