"""BahdanauDecoder: the generic layer checks; the cached step equals the teacher-forced pass;
source padding is masked; its weights are the attention's."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from applications.text.translation.bahdanau_decoder import BahdanauDecoder
from layer_checks import run_layer_checks

RNG = np.random.default_rng(0)
TARGET = RNG.normal(size=(2, 5, 6)).astype("float32")
SOURCE = RNG.normal(size=(2, 7, 10)).astype("float32")
SOURCE_MASK = np.array([[True] * 4 + [False] * 3, [True] * 7])


def test_generic_layer_checks():
    # The LSTM variant differs only in its cell (checked step by step below).
    run_layer_checks(
        BahdanauDecoder, {"units": 8, "cell": "gru", "output_dim": 6, "dropout_rate": 0.1},
        {"target_sequence": TARGET, "encoder_sequence": SOURCE, "encoder_padding_mask": SOURCE_MASK}, {},
    )


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_cached_steps_equal_the_teacher_forced_pass(cell):
    decoder = BahdanauDecoder(units=8, cell=cell, output_dim=6)
    full, weights = decoder(TARGET, SOURCE, encoder_padding_mask=SOURCE_MASK, return_attention_scores=True)
    step = tf.function(decoder.step, jit_compile=True)  # as the searches run it
    cache = decoder.initial_cache(SOURCE, SOURCE_MASK)
    outputs = []
    for index in range(TARGET.shape[1]):
        output, cache = step(TARGET[:, index : index + 1], cache)
        outputs.append(np.asarray(output))
    np.testing.assert_allclose(np.concatenate(outputs, axis=1), np.asarray(full), atol=1e-5)
    # The weights are distributions over the real source tokens only.
    weights = np.asarray(weights)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(weights[0, :, 4:], 0.0)


def test_source_padding_changes_nothing():
    decoder = BahdanauDecoder(units=8, output_dim=6)
    short = decoder(TARGET[:1], SOURCE[:1, :4])
    padded = np.concatenate([SOURCE[:1, :4], RNG.normal(size=(1, 3, 10)).astype("float32")], axis=1)
    np.testing.assert_allclose(np.asarray(decoder(TARGET[:1], padded, encoder_padding_mask=SOURCE_MASK[:1])),
                               np.asarray(short), atol=1e-6)


def test_implicit_source_mask_equals_the_explicit_one():
    ids = np.array([[3, 4, 5, 0, 0], [6, 7, 8, 9, 1]])
    embedding = keras.layers.Embedding(10, 10, mask_zero=True)
    decoder = BahdanauDecoder(units=8, output_dim=6)
    source_ids, target = keras.Input((None,), dtype="int32"), keras.Input((None, 6))
    model = keras.Model([source_ids, target], decoder(target, embedding(source_ids)))
    explicit = decoder(TARGET, embedding(ids), encoder_padding_mask=ids != 0)
    np.testing.assert_allclose(np.asarray(model([ids, TARGET])), np.asarray(explicit), atol=1e-6)


def test_later_targets_do_not_change_earlier_outputs():
    decoder = BahdanauDecoder(units=8, output_dim=6)
    changed = TARGET.copy()
    changed[:, 3:] = RNG.normal(size=changed[:, 3:].shape)
    base, other = np.asarray(decoder(TARGET, SOURCE)), np.asarray(decoder(changed, SOURCE))
    np.testing.assert_allclose(other[:, :3], base[:, :3], atol=1e-6)
    assert np.abs(other[:, 3:] - base[:, 3:]).max() > 1e-4


def test_bad_arguments_raise():
    for kwargs, name in (({"units": 0}, "units"), ({"units": 4, "cell": "rnn"}, "cell"),
                         ({"units": 4, "output_dim": 0}, "output_dim"), ({"units": 4, "dropout_rate": 1.0},
                                                                          "dropout_rate")):
        with pytest.raises(ValueError, match=f"Received: {name}="):
            BahdanauDecoder(**kwargs)
