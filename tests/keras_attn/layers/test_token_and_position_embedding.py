import keras
import numpy as np
import pytest

from keras_attn.layers.token_and_position_embedding import TokenAndPositionEmbedding
from layer_checks import run_layer_checks

IDS = np.array([[3, 4, 5, 0, 0], [7, 1, 2, 9, 6]], "int32")


def test_generic_layer_checks():
    run_layer_checks(
        TokenAndPositionEmbedding,
        {"vocabulary_size": 10, "sequence_length": 6, "embedding_dim": 4},
        {"inputs": IDS},
        expected_output_shape=(2, 5, 4),
    )


def test_generic_layer_checks_untied_no_mask():
    run_layer_checks(
        TokenAndPositionEmbedding,
        {
            "vocabulary_size": 10,
            "sequence_length": 5,
            "embedding_dim": 4,
            "mask_zero": False,
            "tie_weights": False,
            "embeddings_initializer": "glorot_uniform",
        },
        {"inputs": IDS},
        expected_output_shape=(2, 5, 4),
    )


@pytest.mark.parametrize("start_index", [0, 2])
def test_matches_keras_hub_with_copied_weights(start_index):
    import keras_hub

    ids = IDS[:, :3]
    ours = TokenAndPositionEmbedding(10, 6, 4)
    theirs = keras_hub.layers.TokenAndPositionEmbedding(10, 6, 4, mask_zero=True)
    ours.build(ids.shape)
    theirs.build(ids.shape)
    theirs.token_embedding.embeddings.assign(ours.token_embedding.embeddings)
    theirs.position_embedding.position_embeddings.assign(ours.position_embedding.position_embeddings)
    np.testing.assert_allclose(
        np.asarray(ours(ids, start_index=start_index)),
        np.asarray(theirs(ids, start_index=start_index)),
        atol=1e-6,
    )
    positions = np.array([[3, 0, 5], [1, 1, 2]], "int32")  # explicit positions, per example
    np.testing.assert_allclose(
        np.asarray(ours(ids, positions=positions)), np.asarray(theirs(ids, positions=positions)), atol=1e-6
    )


def test_output_is_token_plus_position_rows():
    layer = TokenAndPositionEmbedding(10, 6, 4)
    out = np.asarray(layer(IDS))
    tokens = np.asarray(layer.token_embedding.embeddings)
    positions = np.asarray(layer.position_embedding.position_embeddings)
    np.testing.assert_allclose(out, tokens[IDS] + positions[None, :5], atol=1e-6)


def test_implicit_mask_is_set():
    layer = TokenAndPositionEmbedding(10, 6, 4)
    out = layer(IDS)
    np.testing.assert_array_equal(np.asarray(out._keras_mask), IDS != 0)
    assert getattr(TokenAndPositionEmbedding(10, 6, 4, mask_zero=False)(IDS), "_keras_mask", None) is None


def test_implicit_mask_reaches_downstream_attention():
    # Self-attention reads the implicit mask, so the outputs at real positions
    # do not depend on how much padding follows them.
    keras.utils.set_random_seed(1)
    ids = keras.Input((None,), dtype="int32")
    embedded = TokenAndPositionEmbedding(10, 8, 4)(ids)
    attended = keras.layers.MultiHeadAttention(num_heads=2, key_dim=2)(embedded, embedded)
    pooled = keras.layers.GlobalAveragePooling1D()(attended)  # masked mean
    model = keras.Model(ids, [attended, pooled])
    short = np.array([[3, 4, 5, 0]], "int32")
    long = np.array([[3, 4, 5, 0, 0, 0, 0]], "int32")
    short_out, short_pool = model(short)
    long_out, long_pool = model(long)
    np.testing.assert_allclose(np.asarray(short_out)[:, :3], np.asarray(long_out)[:, :3], atol=1e-5)
    np.testing.assert_allclose(np.asarray(short_pool), np.asarray(long_pool), atol=1e-5)
    # Without the mask the padding would leak in.
    no_mask = TokenAndPositionEmbedding(10, 8, 4, mask_zero=False)
    no_mask.build(None)
    assert no_mask.compute_mask(short) is None


def test_reverse_tied_is_hidden_times_table_transposed():
    layer = TokenAndPositionEmbedding(10, 6, 4)
    hidden = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    logits = np.asarray(layer.project_to_vocabulary(hidden))
    table = np.asarray(layer.token_embedding.embeddings)
    np.testing.assert_allclose(logits, hidden @ table.T, atol=1e-5)
    np.testing.assert_allclose(np.asarray(layer(hidden, reverse=True)), logits, atol=1e-6)
    assert len(layer.trainable_weights) == 2


def test_reverse_untied_uses_its_own_matrix():
    layer = TokenAndPositionEmbedding(10, 6, 4, tie_weights=False)
    hidden = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    logits = np.asarray(layer.project_to_vocabulary(hidden))
    np.testing.assert_allclose(logits, hidden @ np.asarray(layer.token_embedding.reverse_embeddings), atol=1e-5)
    assert len(layer.trainable_weights) == 3


def test_tied_language_model_saves_loads_and_keeps_one_table(tmp_path):
    ids = keras.Input((None,), dtype="int32")
    embedding = TokenAndPositionEmbedding(12, 6, 4, name="embed")
    hidden = keras.layers.Dense(4)(embedding(ids))
    logits = embedding.project_to_vocabulary(hidden)
    model = keras.Model(ids, logits)
    assert logits.shape == (None, None, 12)
    # The reverse path keeps the mask of the ids (useful for a masked loss).
    assert logits._keras_mask is not None
    x = np.array([[1, 2, 3, 0]], "int32")
    path = tmp_path / "lm.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)
    # One token table (tied), one position table, one Dense kernel and bias.
    assert len(loaded.trainable_weights) == 4
    assert loaded.get_layer("embed").token_embedding.embeddings is loaded.get_layer("embed").trainable_weights[0]


def test_mixed_float16_reverse():
    layer = TokenAndPositionEmbedding(10, 6, 4, dtype="mixed_float16")
    embedded = layer(IDS)
    logits = layer.project_to_vocabulary(embedded)
    assert keras.backend.standardize_dtype(logits.dtype) == "float16"
    assert logits.shape == (2, 5, 10)


def test_bad_inputs_raise():
    layer = TokenAndPositionEmbedding(10, 4, 3)
    with pytest.raises(ValueError, match=r"longer than sequence_length=4.*inputs.shape=\(2, 5\)"):
        layer(IDS)
    with pytest.raises(ValueError, match="start_index=2"):
        layer(IDS[:, :3], start_index=2)
    with pytest.raises(ValueError, match="integer token ids"):
        layer(np.zeros((1, 3), "float32"))
    with pytest.raises(ValueError, match="embedding_dim"):
        TokenAndPositionEmbedding(10, 4, 0)
