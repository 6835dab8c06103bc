"""from_keras_hub_t5: a small random keras-hub T5Backbone (T5 and T5 v1.1) into keras-attn
layers; both outputs equal, cached decoding equals the full pass, save/load in safe mode."""

import os

import keras
import keras_hub
import numpy as np
import pytest
from keras_hub.src.utils.keras_utils import gelu_approximate

from applications.text.translation.keras_hub_t5 import from_keras_hub_t5

RNG = np.random.default_rng(0)
ENCODER_IDS = RNG.integers(1, 40, size=(2, 7)).astype("int32")
ENCODER_MASK = np.array([[1, 1, 1, 1, 1, 0, 0], [1] * 7], "int32")
DECODER_IDS = RNG.integers(1, 40, size=(2, 5)).astype("int32")
DECODER_MASK = np.array([[1, 1, 1, 1, 0], [1] * 5], "int32")
INPUTS = {
    "encoder_token_ids": ENCODER_IDS, "encoder_padding_mask": ENCODER_MASK,
    "decoder_token_ids": DECODER_IDS, "decoder_padding_mask": DECODER_MASK,
}
VARIANTS = {
    "t5": dict(activation="relu", use_gated_activation=False),
    "t5_v1_1": dict(activation=gelu_approximate, use_gated_activation=True),
    "gated_exact_gelu": dict(activation="gelu", use_gated_activation=True, key_value_dim=6),
}


def _hub(variant):
    keras.utils.set_random_seed(0)
    hub = keras_hub.models.T5Backbone(
        vocabulary_size=40, num_layers=2, num_heads=2, hidden_dim=8, intermediate_dim=16, dropout=0.0,
        **VARIANTS[variant],
    )
    # Random, non-trivial weights everywhere (keras-hub starts its norms at 1, its kernels small).
    rng = np.random.default_rng(1)
    hub.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in hub.get_weights()])
    return hub


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def converted(request):
    hub = _hub(request.param)
    return hub, from_keras_hub_t5(hub)


def test_outputs_equal_keras_hub(converted):
    hub, ours = converted
    want, got = hub(INPUTS), ours(INPUTS)
    assert sorted(got) == sorted(want) == ["decoder_sequence_output", "encoder_sequence_output"]
    for key in want:
        np.testing.assert_allclose(np.asarray(got[key]), np.asarray(want[key]), atol=1e-4, rtol=1e-4)
    assert sorted(ours.input) == sorted(INPUTS)


def test_model_is_built_from_keras_attn_layers(converted):
    _, ours = converted
    kinds = {type(layer).__module__.split(".")[0] for layer in ours.layers}
    assert kinds == {"keras", "keras_attn"}, kinds
    encoder, decoder = ours.get_layer("encoder"), ours.get_layer("decoder")
    assert encoder.position_bias.bidirectional and not decoder.position_bias.bidirectional
    assert encoder.norm == "rms_norm" and not encoder.use_bias and encoder.attention_scale == 1.0


def test_cached_decoding_equals_the_full_pass(converted):
    _, ours = converted
    full = np.asarray(ours(INPUTS)["decoder_sequence_output"])
    encoded = ours(INPUTS)["encoder_sequence_output"]
    embedding, decoder = ours.get_layer("token_embedding"), ours.get_layer("decoder")
    self_cache = decoder.initial_self_attention_cache(2, DECODER_IDS.shape[1])
    cross_cache = decoder.compute_cross_attention_cache(encoded)
    steps = []
    for index in range(DECODER_IDS.shape[1]):
        out, self_cache, cross_cache = decoder(
            embedding(DECODER_IDS[:, index : index + 1]), decoder_padding_mask=DECODER_MASK,
            encoder_padding_mask=ENCODER_MASK, self_attention_cache=self_cache,
            self_attention_cache_update_index=index, cross_attention_cache=cross_cache,
        )
        steps.append(np.asarray(out))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-4)


def test_save_and_load_in_safe_mode(converted, tmp_path):
    _, ours = converted
    path = os.path.join(tmp_path, "t5.keras")
    ours.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    want, got = ours(INPUTS), loaded(INPUTS)
    for key in want:
        np.testing.assert_allclose(np.asarray(got[key]), np.asarray(want[key]), atol=1e-6)


def test_unknown_activation_is_refused():
    hub = keras_hub.models.T5Backbone(
        vocabulary_size=10, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16,
        activation=lambda x: x * 2.0,
    )
    with pytest.raises(ValueError, match="activation"):
        from_keras_hub_t5(hub)
