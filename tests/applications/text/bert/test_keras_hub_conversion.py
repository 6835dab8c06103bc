"""Our post-norm BertEncoder equals keras-hub's BertBackbone with copied weights."""

import keras
import keras_hub
import numpy as np
import pytest

from applications.text.bert import BertClassifier, from_keras_hub_bert
from applications.text.bert.keras_hub_conversion import keras_hub_pooler_weights


def _hub(**kwargs):
    keras.utils.set_random_seed(0)
    settings = dict(vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=16, intermediate_dim=32,
                    max_sequence_length=12, num_segments=2)
    hub = keras_hub.models.BertBackbone(**{**settings, **kwargs})
    # Random, non-trivial weights everywhere (keras-hub starts biases at 0 and norms at 1).
    rng = np.random.default_rng(1)
    hub.set_weights([rng.normal(scale=0.3, size=w.shape).astype("float32") for w in hub.get_weights()])
    return hub


def _inputs(batch=3, length=10, vocabulary_size=50):
    rng = np.random.default_rng(2)
    lengths = np.array([length, 6, 3])[:batch]
    mask = (np.arange(length)[None, :] < lengths[:, None]).astype("int32")
    token_ids = rng.integers(1, vocabulary_size, size=(batch, length)) * mask
    segment_ids = (np.arange(length)[None, :] >= lengths[:, None] // 2).astype("int32") * mask
    return {"token_ids": token_ids.astype("int32"), "segment_ids": segment_ids, "padding_mask": mask}


@pytest.mark.parametrize("kwargs", [{}, {"num_layers": 1, "num_heads": 4, "max_sequence_length": 16}],
                         ids=["two_layers", "one_layer_four_heads"])
def test_sequence_output_equals_keras_hub_at_unpadded_positions(kwargs):
    hub = _hub(**kwargs)
    ours = from_keras_hub_bert(hub)
    inputs = _inputs()
    expected = np.asarray(hub(inputs)["sequence_output"])
    actual = np.asarray(ours(inputs))
    real = inputs["padding_mask"].astype(bool)
    np.testing.assert_allclose(actual[real], expected[real], atol=1e-4, rtol=1e-4)
    assert not ours.norm_first and ours.max_sequence_length == hub.max_sequence_length


def test_pooler_weights_give_keras_hub_pooled_output():
    hub = _hub()
    classifier = BertClassifier(from_keras_hub_bert(hub), num_classes=2)
    classifier.pooler.dense.set_weights(keras_hub_pooler_weights(hub))
    inputs = _inputs()
    pooled = np.asarray(classifier.pooler(classifier.encoder(inputs)))
    np.testing.assert_allclose(pooled, np.asarray(hub(inputs)["pooled_output"]), atol=1e-4, rtol=1e-4)
