"""TransformerDecoder stack and its stacked caches."""

import numpy as np
import pytest

from keras_attn.layers import TransformerDecoder
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
