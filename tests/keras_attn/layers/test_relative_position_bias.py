"""RelativePositionBias: T5's buckets by hand and against keras-hub, the bias against
keras-hub's T5 attention with the same table, cache offsets, generic checks."""

import numpy as np
import pytest
from keras_hub.src.models.t5.t5_multi_head_attention import T5MultiHeadAttention

from keras_attn.layers import RelativePositionBias
from keras_attn.layers.relative_position_bias import relative_position_bucket
from layer_checks import run_layer_checks

# Hand-computed with T5's defaults (32 buckets, max_distance 128). Bidirectional: 16
# buckets a side, 8 exact; distance d >= 8 -> 8 + int(log(d / 8) / log(128 / 8) * 8).
# Causal: 32 buckets, 16 exact; d >= 16 -> 16 + int(log(d / 16) / log(128 / 16) * 16).
BIDIRECTIONAL = {
    0: 0, -1: 1, -7: 7, 1: 17, 7: 23,  # exact: keys before the query 0..7, after it 16 + 0..7
    -8: 8, -15: 9, -20: 10, -40: 12, -100: 15, -127: 15, -128: 15, -5000: 15,  # log(40/8)/log(16)*8 = 4.6
    8: 24, 20: 26, 40: 28, 100: 31, 5000: 31,
}
CAUSAL = {
    0: 0, -1: 1, -15: 15, 1: 0, 7: 0, 5000: 0,  # later keys share bucket 0
    -16: 16, -20: 17, -50: 24, -100: 30, -127: 31, -5000: 31,  # log(50/16)/log(8)*16 = 8.76
}


@pytest.mark.parametrize("bidirectional, expected", [(True, BIDIRECTIONAL), (False, CAUSAL)])
def test_buckets_by_hand(bidirectional, expected):
    distances = np.array(list(expected), "int32")
    got = np.asarray(relative_position_bucket(distances, bidirectional=bidirectional))
    assert dict(zip(expected, got.tolist())) == expected


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("num_buckets, max_distance", [(32, 128), (8, 20)])
def test_buckets_equal_keras_hub(bidirectional, num_buckets, max_distance):
    distances = np.arange(-300, 301, dtype="int32")
    theirs = T5MultiHeadAttention._relative_position_bucket(
        distances, bidirectional=bidirectional, num_buckets=num_buckets, max_distance=max_distance
    )
    ours = relative_position_bucket(distances, bidirectional, num_buckets, max_distance)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


@pytest.mark.parametrize("is_decoder", [False, True])
def test_bias_equals_keras_hub_t5_attention(is_decoder):
    theirs = T5MultiHeadAttention(
        is_decoder=is_decoder, hidden_dim=8, key_value_dim=4, num_heads=2, dropout=0.0,
        use_relative_attention_bias=True,
    )
    theirs(np.zeros((1, 3, 8), "float32"))
    ours = RelativePositionBias(num_heads=2, bidirectional=not is_decoder)
    ours.build()
    table = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    theirs.relative_attention_bias.assign(table)
    ours.embeddings.assign(table)
    want = np.asarray(theirs.compute_bias(9, 140, query_start_index=3))
    got = np.asarray(ours(np.zeros((1, 9, 1)), np.zeros((1, 140, 1)), query_start_index=3))
    assert got.shape == (1, 2, 9, 140)
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_cache_offset_gives_the_rows_of_the_full_bias():
    layer = RelativePositionBias(num_heads=3, num_buckets=8, max_distance=10, bidirectional=False)
    full = np.asarray(layer(np.zeros((1, 12, 1))))  # (1, 3, 12, 12)
    for index in (0, 5, 11):
        row = np.asarray(layer(np.zeros((1, 1, 1)), np.zeros((1, 12, 1)), query_start_index=index))
        np.testing.assert_array_equal(row, full[:, :, index : index + 1])
    kernel = layer.kernel_bias(query_start_index=4)
    np.testing.assert_array_equal(np.asarray(kernel.dense(3, 12)), full[:, :, 4:7])


def test_generic_layer_checks():
    run_layer_checks(
        RelativePositionBias,
        dict(num_heads=2, num_buckets=8, max_distance=16),
        {"query_sequence": np.zeros((1, 5, 4), "float32")},
        expected_output_shape=(1, 2, 5, 5),
    )
    layer = RelativePositionBias(num_heads=2)
    assert tuple(layer(np.zeros((1, 5, 4)), np.zeros((1, 7, 4))).shape) == (1, 2, 5, 7)
    assert layer.compute_output_shape((None, 5, 4), (None, 7, 4)) == (1, 2, 5, 7)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num_heads=0), "num_heads"),
        (dict(num_heads=2, num_buckets=3), "num_buckets"),
        (dict(num_heads=2, num_buckets=1, bidirectional=False), "num_buckets"),
        (dict(num_heads=2, num_buckets=8, max_distance=2), "max_distance"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RelativePositionBias(**kwargs)
