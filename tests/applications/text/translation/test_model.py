"""The encoder-decoder models (transformer, t5, rnn): masks, causality, options, `.keras` round trip."""

import keras
import numpy as np
import pytest

from applications.text.translation.model import build_translator_model
from applications.text.translation.sizes import model_config


ARCHITECTURES = ("transformer", "t5", "rnn")


def _model(**options):
    keras.utils.set_random_seed(0)
    config = model_config("tiny", vocabulary_size=30, max_length=12, dropout_rate=0.0, **options)
    return build_translator_model(config), config


def _logits(model, source, target):
    return model({"encoder_token_ids": np.array([source]), "decoder_token_ids": np.array([target])}).numpy()[0]


SOURCE, TARGET = [5, 6, 7, 3, 0, 0, 0, 0], [2, 8, 9, 10, 0, 0]


@pytest.mark.parametrize("options", [
    {}, {"norm_first": False, "share_embeddings": False, "tie_weights": False},
    {"architecture": "t5"}, {"architecture": "t5", "share_embeddings": False, "tie_weights": False},
    {"architecture": "rnn"}, {"architecture": "rnn", "rnn_cell": "lstm", "share_embeddings": False,
                              "tie_weights": False},
])
def test_source_padding_is_masked_in_encoder_and_cross_attention(options):
    model, _ = _model(**options)
    reference = _logits(model, SOURCE[:4], TARGET)  # no padding at all
    np.testing.assert_allclose(_logits(model, SOURCE, TARGET), reference, atol=1e-5)
    np.testing.assert_allclose(_logits(model, SOURCE + [0, 0, 0, 0], TARGET), reference, atol=1e-5)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_decoder_is_causal_and_target_padding_is_masked(architecture):
    model, _ = _model(architecture=architecture)
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


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_keras_save_and_load_round_trip(tmp_path, architecture):
    import applications.text.custom_objects  # noqa: F401  (registers the RNN's decoder, as the loader does)

    model, config = _model(architecture=architecture, num_layers=1)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # safe_mode: no Lambda layers
    np.testing.assert_allclose(_logits(loaded, SOURCE, TARGET), _logits(model, SOURCE, TARGET), atol=1e-6)


def test_t5_has_t5_options_and_no_absolute_positions():
    model, config = _model(architecture="t5")
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    assert encoder.position_bias.bidirectional and not decoder.position_bias.bidirectional
    for stack in (encoder, decoder):
        assert (stack.norm, stack.use_bias, stack.gated, stack.activation, stack.attention_scale) == (
            "rms_norm", False, True, "gelu_approximate", 1.0)
    assert not any("position_embedding" in weight.path for weight in model.weights)
    # Queries start scaled by key_dim ** -0.5 (T5's initialisation for unscaled logits).
    query = np.asarray(encoder.blocks[0].self_attention_layer.query_dense.kernel)
    key = np.asarray(encoder.blocks[0].self_attention_layer.key_dense.kernel)
    assert query.std() == pytest.approx(key.std() * (config.hidden_dim // config.num_heads) ** -0.5, rel=0.2)


def test_rnn_is_a_bidirectional_encoder_and_an_attentive_decoder():
    model, config = _model(architecture="rnn", rnn_cell="lstm")
    encoders = [layer for layer in model.layers if isinstance(layer, keras.layers.Bidirectional)]
    assert len(encoders) == config.num_layers and isinstance(encoders[0].forward_layer, keras.layers.LSTM)
    decoder = model.get_layer("decoder")
    assert type(decoder).__name__ == "BahdanauDecoder" and decoder.cell == "lstm"


def test_old_configs_without_an_architecture_are_transformers():
    from applications.text.translation.sizes import ModelConfig

    old = {"vocabulary_size": 30, "max_length": 12, "num_layers": 1, "hidden_dim": 16, "num_heads": 2,
           "intermediate_dim": 32, "epochs": 3}  # keras-attn 0.1 kept training keys here too
    config = ModelConfig.from_dict(old)
    assert config.architecture == "transformer" and config.rnn_cell == "gru"
    with pytest.raises(ValueError, match="Received: architecture='lstm'"):
        ModelConfig.from_dict(dict(old, architecture="lstm"))
