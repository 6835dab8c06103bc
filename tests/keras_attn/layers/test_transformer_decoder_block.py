"""TransformerDecoderBlock: generic checks, keras-hub parity, caches, causality."""

import warnings

import keras
import keras_hub
import numpy as np
import pytest

from keras_attn.layers import TransformerDecoderBlock
from keras_hub_parity import copy_from_keras_hub
from layer_checks import run_layer_checks

RNG = np.random.default_rng(0)
TARGET = RNG.normal(size=(2, 6, 16)).astype("float32")
SOURCE = RNG.normal(size=(2, 5, 16)).astype("float32")
TARGET_PADDING = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], bool)
SOURCE_PADDING = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)


@pytest.mark.parametrize("norm_first", [True, False])
def test_generic_layer_checks(norm_first):
    run_layer_checks(
        TransformerDecoderBlock,
        dict(num_heads=4, intermediate_dim=32, norm_first=norm_first, dropout_rate=0.1),
        {
            "decoder_sequence": TARGET,
            "encoder_sequence": SOURCE,
            "decoder_padding_mask": TARGET_PADDING,
            "encoder_padding_mask": SOURCE_PADDING,
        },
        expected_output_shape=(2, 6, 16),
    )


def test_generic_layer_checks_decoder_only():
    run_layer_checks(
        TransformerDecoderBlock, dict(num_heads=2, intermediate_dim=16), {"decoder_sequence": TARGET},
        expected_output_shape=(2, 6, 16),
    )


@pytest.mark.parametrize("norm_first", [True, False])
def test_equals_keras_hub_transformer_decoder(norm_first):
    theirs = keras_hub.layers.TransformerDecoder(
        intermediate_dim=32, num_heads=4, activation="gelu", normalize_first=norm_first
    )
    ours = TransformerDecoderBlock(num_heads=4, intermediate_dim=32, norm_first=norm_first)
    theirs(TARGET, SOURCE)
    ours(TARGET, SOURCE)
    copy_from_keras_hub(ours, theirs)
    kwargs = dict(decoder_padding_mask=TARGET_PADDING, encoder_padding_mask=SOURCE_PADDING)
    np.testing.assert_allclose(
        np.asarray(ours(TARGET, SOURCE, **kwargs))[TARGET_PADDING],
        np.asarray(theirs(TARGET, SOURCE, **kwargs))[TARGET_PADDING],
        atol=1e-5,
    )


@pytest.mark.parametrize("with_encoder", [True, False])
def test_cached_decoding_equals_full_pass(with_encoder):
    block = TransformerDecoderBlock(num_heads=4, intermediate_dim=32)
    source = SOURCE if with_encoder else None
    full = block(TARGET, source, encoder_padding_mask=SOURCE_PADDING if with_encoder else None)
    cross = block.compute_cross_attention_cache(SOURCE) if with_encoder else None
    cache = np.zeros((2, 2, 6, 4, 4), "float32")
    steps = []
    for index in range(6):
        out, cache, _ = block(
            TARGET[:, index : index + 1],
            encoder_padding_mask=SOURCE_PADDING if with_encoder else None,
            self_attention_cache=cache,
            self_attention_cache_update_index=index,
            cross_attention_cache=cross,
        )
        steps.append(out)
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)


def test_changing_future_tokens_changes_no_earlier_output():
    block = TransformerDecoderBlock(num_heads=2, intermediate_dim=16)
    base = np.asarray(block(TARGET, SOURCE))
    changed = TARGET.copy()
    changed[:, 3:] = RNG.normal(size=changed[:, 3:].shape) * 10
    after = np.asarray(block(changed, SOURCE))
    np.testing.assert_allclose(after[:, :3], base[:, :3], atol=1e-6)
    assert not np.allclose(after[:, 3:], base[:, 3:])


def test_encoder_padding_hides_padded_source():
    block = TransformerDecoderBlock(num_heads=2, intermediate_dim=16)
    base = block(TARGET, SOURCE, encoder_padding_mask=SOURCE_PADDING)
    noisy = SOURCE.copy()
    noisy[~SOURCE_PADDING] = 1e3
    np.testing.assert_allclose(block(TARGET, noisy, encoder_padding_mask=SOURCE_PADDING), base, atol=1e-5)


def test_implicit_masks_flow_without_warnings():
    embedding = keras.layers.Embedding(10, 8, mask_zero=True)
    block = TransformerDecoderBlock(num_heads=2, intermediate_dim=16)
    target_ids = keras.Input((4,), dtype="int32")
    source_ids = keras.Input((5,), dtype="int32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = block(embedding(target_ids), embedding(source_ids))
        model = keras.Model([target_ids, source_ids], out)
        targets, sources = np.array([[1, 2, 3, 0]]), np.array([[4, 5, 0, 0, 0]])
        implicit = model([targets, sources])
    explicit = block(
        keras.ops.convert_to_numpy(embedding(targets)), keras.ops.convert_to_numpy(embedding(sources)),
        decoder_padding_mask=targets != 0, encoder_padding_mask=sources != 0,
    )
    np.testing.assert_allclose(implicit, explicit, atol=1e-6)


def test_attention_scores_for_alignment_plots():
    block = TransformerDecoderBlock(num_heads=2, intermediate_dim=16)
    out, scores = block(TARGET, SOURCE, return_attention_scores=True, encoder_padding_mask=SOURCE_PADDING)
    cross = np.asarray(scores["cross_attention"])
    assert cross.shape == (2, 2, 6, 5)
    np.testing.assert_allclose(cross.sum(-1), 1.0, atol=1e-5)
    assert np.all(cross[0, :, :, 3:] == 0.0)


def test_cross_attention_needs_an_encoder_at_build():
    block = TransformerDecoderBlock(num_heads=2, intermediate_dim=16)
    block(TARGET)
    with pytest.raises(ValueError, match="encoder"):
        block(TARGET, SOURCE)


def test_generic_layer_checks_t5_options_and_biases():
    run_layer_checks(
        TransformerDecoderBlock,
        dict(
            num_heads=4, intermediate_dim=32, norm="rms_norm", use_bias=False, gated=True,
            activation="gelu_approximate", attention_scale=1.0, rotary_max_wavelength=100,
        ),
        {
            "decoder_sequence": TARGET,
            "encoder_sequence": SOURCE,
            "self_attention_bias": RNG.normal(size=(2, 4, 6, 6)).astype("float32"),
            "cross_attention_bias": RNG.normal(size=(2, 4, 6, 5)).astype("float32"),
        },
        expected_output_shape=(2, 6, 16),
    )


def test_rotary_positions_are_on_self_attention_only():
    block = TransformerDecoderBlock(num_heads=4, intermediate_dim=32, rotary_max_wavelength=100)
    block(TARGET, SOURCE)
    assert block.self_attention_layer.rotary is not None
    assert block.cross_attention_layer.rotary is None
