"""TransformerDecoder stack: its stacked caches (one step or several at a time), the
shared position bias, every block's attention weights."""

import numpy as np
import pytest

from keras_attn.layers import RelativePositionBias, TransformerDecoder
from keras_attn.ops import BucketedBias
from layer_checks import run_layer_checks

RNG = np.random.default_rng(0)
TARGET = RNG.normal(size=(2, 5, 8)).astype("float32")
SOURCE = RNG.normal(size=(2, 4, 8)).astype("float32")


def test_generic_layer_checks():
    run_layer_checks(
        TransformerDecoder,
        dict(num_layers=2, num_heads=2, intermediate_dim=16),
        {"decoder_sequence": TARGET, "encoder_sequence": SOURCE},
        expected_output_shape=(2, 5, 8),
    )


@pytest.mark.parametrize("chunk_size", [None, 2])
def test_cached_decoding_equals_full_pass(chunk_size):
    decoder = TransformerDecoder(
        num_layers=2, num_heads=2, intermediate_dim=16, num_key_value_heads=1, chunk_size=chunk_size
    )
    full = decoder(TARGET, SOURCE)
    self_cache = decoder.initial_self_attention_cache(2, 5)
    cross_cache = decoder.compute_cross_attention_cache(SOURCE)
    assert tuple(self_cache.shape) == (2, 2, 2, 5, 1, 4)
    steps = []
    for index in range(5):
        out, self_cache, cross_cache = decoder(
            TARGET[:, index : index + 1],
            self_attention_cache=self_cache,
            self_attention_cache_update_index=index,
            cross_attention_cache=cross_cache,
        )
        steps.append(out)
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)


def test_chunked_stack_equals_dense_stack_and_stochastic_depth_grows_linearly():
    dense = TransformerDecoder(num_layers=3, num_heads=2, intermediate_dim=16, stochastic_depth_rate=0.2)
    chunked = TransformerDecoder.from_config(dict(dense.get_config(), chunk_size=2))
    assert [b.stochastic_depth_rate for b in dense.blocks] == [0.0, 0.1, 0.2]
    assert all(b.chunk_size == 2 for b in chunked.blocks)
    want = dense(TARGET, SOURCE)
    chunked(TARGET, SOURCE)
    chunked.set_weights(dense.get_weights())
    np.testing.assert_allclose(chunked(TARGET, SOURCE), want, atol=1e-5)


def _t5_decoder(chunk_size=None, **kwargs):
    return TransformerDecoder(
        num_layers=2, num_heads=2, intermediate_dim=16, norm="rms_norm", use_bias=False, gated=True,
        activation="gelu_approximate", attention_scale=1.0, chunk_size=chunk_size,
        position_bias=RelativePositionBias(2, num_buckets=8, max_distance=16, bidirectional=False), **kwargs,
    )


def test_generic_layer_checks_t5_options_and_position_bias():
    run_layer_checks(
        TransformerDecoder,
        dict(
            num_layers=2, num_heads=2, intermediate_dim=16, norm="rms_norm", use_bias=False, gated=True,
            chunk_size=2,  # the bias block by block, under XLA and mixed_float16 too
            position_bias=RelativePositionBias(2, num_buckets=8, max_distance=16, bidirectional=False),
        ),
        {"decoder_sequence": TARGET, "encoder_sequence": SOURCE},
        expected_output_shape=(2, 5, 8),
    )


@pytest.mark.parametrize(
    "make, with_encoder",
    [
        (lambda chunk: TransformerDecoder(num_layers=2, num_heads=2, intermediate_dim=16, chunk_size=chunk), True),
        (lambda chunk: TransformerDecoder(num_layers=2, num_heads=2, intermediate_dim=16, chunk_size=chunk), False),
        (lambda chunk: _t5_decoder(chunk, rotary_max_wavelength=100), True),
    ],
)
@pytest.mark.parametrize("chunk_size", [None, 2])
def test_multi_token_cache_updates_equal_the_full_pass(make, with_encoder, chunk_size):
    decoder = make(chunk_size)
    source = SOURCE if with_encoder else None
    full = decoder(TARGET, source)
    self_cache = decoder.initial_self_attention_cache(2, 5)
    cross_cache = decoder.compute_cross_attention_cache(SOURCE) if with_encoder else None
    steps = []
    for start, stop in ((0, 3), (3, 4), (4, 5)):  # a prompt of three, then one step at a time
        out, self_cache, cross_cache = decoder(
            TARGET[:, start:stop], self_attention_cache=self_cache,
            self_attention_cache_update_index=start, cross_attention_cache=cross_cache,
        )
        steps.append(out)
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)


def test_chunked_position_bias_equals_dense_and_is_never_whole(monkeypatch):
    dense, chunked = _t5_decoder(), _t5_decoder(chunk_size=2)
    want = dense(TARGET, SOURCE)
    chunked(TARGET, SOURCE)
    chunked.set_weights(dense.get_weights())
    monkeypatch.setattr(BucketedBias, "dense", lambda *a: pytest.fail("the whole bias was formed"))
    np.testing.assert_allclose(chunked(TARGET, SOURCE), want, atol=1e-5)


def test_return_attention_scores_equals_looping_over_the_blocks():
    decoder = _t5_decoder()
    output, scores = decoder(TARGET, SOURCE, return_attention_scores=True)
    x, bias = TARGET, decoder.position_bias(TARGET)
    for block, block_scores in zip(decoder.blocks, scores):
        x, want = block(x, SOURCE, self_attention_bias=bias, return_attention_scores=True)
        assert sorted(block_scores) == ["cross_attention", "self_attention"]
        for name in want:
            np.testing.assert_allclose(block_scores[name], want[name], atol=1e-6)
    assert tuple(scores[0]["self_attention"].shape) == (2, 2, 5, 5)
    assert tuple(scores[0]["cross_attention"].shape) == (2, 2, 5, 4)
    np.testing.assert_allclose(output, decoder.output_norm(x), atol=1e-6)
    with pytest.raises(ValueError, match="cached"):
        decoder(
            TARGET[:, :1], self_attention_cache=decoder.initial_self_attention_cache(2, 5),
            self_attention_cache_update_index=0, return_attention_scores=True,
        )
