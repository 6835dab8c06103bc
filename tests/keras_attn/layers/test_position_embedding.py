import keras
import numpy as np
import pytest

from keras_attn.layers.position_embedding import PositionEmbedding
from keras_attn.layers.position_embedding import interpolate_position_embeddings
from layer_checks import run_layer_checks


def _inputs(batch=2, length=5, dim=6):
    return np.random.default_rng(0).normal(size=(batch, length, dim)).astype("float32")


def _ours_and_keras_hub(inputs, sequence_length=9):
    """Our layer and keras-hub's, built for `inputs`, holding the same table."""
    import keras_hub

    ours = PositionEmbedding(sequence_length=sequence_length)
    theirs = keras_hub.layers.PositionEmbedding(sequence_length=sequence_length)
    ours.build(inputs.shape)
    theirs.build(inputs.shape)
    theirs.position_embeddings.assign(ours.position_embeddings)
    return ours, theirs


def test_generic_layer_checks():
    run_layer_checks(
        PositionEmbedding,
        {"sequence_length": 8, "initializer": "random_normal"},
        {"inputs": _inputs()},
        expected_output_shape=(2, 5, 6),
    )


def test_generic_layer_checks_with_grid():
    run_layer_checks(
        PositionEmbedding,
        {"sequence_length": 6, "grid_shape": (2, 3)},
        {"inputs": _inputs(length=6)},
        expected_output_shape=(2, 6, 6),
    )


@pytest.mark.parametrize("start_index", [0, 3])
def test_matches_keras_hub_with_copied_weights(start_index):
    inputs = _inputs(length=4)
    ours, theirs = _ours_and_keras_hub(inputs)
    np.testing.assert_array_equal(
        np.asarray(ours(inputs, start_index=start_index)),
        np.asarray(theirs(inputs, start_index=start_index)),
    )


def test_returns_table_rows_broadcast_over_batch():
    layer = PositionEmbedding(sequence_length=6)
    out = np.asarray(layer(_inputs(batch=3, length=4), start_index=2))
    table = np.asarray(layer.position_embeddings)
    for example in out:
        np.testing.assert_array_equal(example, table[2:6])


def test_too_long_inputs_raise():
    layer = PositionEmbedding(sequence_length=4)
    with pytest.raises(ValueError, match="longer than the position table"):
        layer(_inputs(length=5))
    with pytest.raises(ValueError, match="start_index=2"):
        layer(_inputs(length=3), start_index=2)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="sequence_length"):
        PositionEmbedding(sequence_length=0)
    with pytest.raises(ValueError, match=r"grid_shape=\(2, 3\)"):
        PositionEmbedding(sequence_length=7, grid_shape=(2, 3))
    with pytest.raises(ValueError, match="grid_shape"):
        PositionEmbedding(sequence_length=6, grid_shape=(6,))
    table = np.zeros((6, 2), "float32")
    with pytest.raises(ValueError, match="new_grid_shape"):
        interpolate_position_embeddings(table, grid_shape=(2, 3))
    with pytest.raises(ValueError, match="new_length"):
        interpolate_position_embeddings(table, new_length=5, grid_shape=(2, 3), new_grid_shape=(3, 3))
    with pytest.raises(ValueError, match="interpolation"):
        interpolate_position_embeddings(table, new_length=3, interpolation="nearest")


# --- Interpolation -----------------------------------------------------------


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
def test_same_size_is_exact_identity(interpolation):
    table = np.random.default_rng(1).normal(size=(12, 5)).astype("float32")
    np.testing.assert_array_equal(
        np.asarray(interpolate_position_embeddings(table, new_length=12, interpolation=interpolation)), table
    )
    np.testing.assert_array_equal(
        np.asarray(
            interpolate_position_embeddings(
                table, grid_shape=(3, 4), new_grid_shape=(3, 4), interpolation=interpolation
            )
        ),
        table,
    )


def _half_pixel_source(new_size, old_size):
    """Source coordinate of each new sample under half-pixel centres."""
    return (np.arange(new_size) + 0.5) * old_size / new_size - 0.5


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
@pytest.mark.parametrize("new_length", [4, 6, 10, 16])
def test_1d_linear_ramp_stays_a_linear_ramp(interpolation, new_length):
    old_length = 8
    ramp = np.arange(old_length, dtype="float32")
    table = np.stack([ramp, 3.0 - 2.0 * ramp], axis=1)  # two ramps, (8, 2)
    out = np.asarray(interpolate_position_embeddings(table, new_length=new_length, interpolation=interpolation))
    # Each new sample is the ramp at its source coordinate, clamped to the old
    # samples at the edges (half-pixel centres).
    source = np.clip(_half_pixel_source(new_length, old_length), 0, old_length - 1)
    inside = (source > 0) & (source < old_length - 1)
    if interpolation == "bicubic":
        # Cubic convolution reproduces a ramp exactly where all four taps are inside.
        inside &= (source >= 1) & (source <= old_length - 2)
    # TensorFlow's bicubic kernel is a 1024-entry table: ~1e-4 relative error.
    atol = 1e-5 if interpolation == "bilinear" else 2e-3
    np.testing.assert_allclose(out[inside, 0], source[inside], atol=atol)
    np.testing.assert_allclose(out[inside, 1], 3.0 - 2.0 * source[inside], atol=2 * atol)
    if interpolation == "bilinear":
        # Edges are clamped to the old end values, never beyond them.
        np.testing.assert_allclose(out[:, 0], source, atol=1e-5)
        assert out[0, 0] >= 0.0 and out[-1, 0] <= old_length - 1


def test_integer_downsampling_keeps_exact_ramp():
    table = np.arange(8, dtype="float32")[:, None]
    out = np.asarray(interpolate_position_embeddings(table, new_length=4))[:, 0]
    np.testing.assert_allclose(out, [0.5, 2.5, 4.5, 6.5], atol=1e-6)


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
def test_2d_plane_stays_a_plane(interpolation):
    rows, cols, new_rows, new_cols = 4, 5, 7, 9
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    plane = (2.0 * r - 0.5 * c + 1.0).astype("float32")
    table = np.stack([plane, -plane], axis=-1).reshape(rows * cols, 2)  # row-major
    out = np.asarray(
        interpolate_position_embeddings(
            table, grid_shape=(rows, cols), new_grid_shape=(new_rows, new_cols), interpolation=interpolation
        )
    ).reshape(new_rows, new_cols, 2)
    src_r = np.clip(_half_pixel_source(new_rows, rows), 0, rows - 1)
    src_c = np.clip(_half_pixel_source(new_cols, cols), 0, cols - 1)
    margin = 1 if interpolation == "bicubic" else 0
    keep_r = (src_r >= margin) & (src_r <= rows - 1 - margin)
    keep_c = (src_c >= margin) & (src_c <= cols - 1 - margin)
    expected = 2.0 * src_r[:, None] - 0.5 * src_c[None, :] + 1.0
    np.testing.assert_allclose(
        out[..., 0][np.ix_(keep_r, keep_c)], expected[np.ix_(keep_r, keep_c)], atol=1e-5 if margin == 0 else 5e-3
    )
    np.testing.assert_allclose(out[..., 1], -out[..., 0], atol=1e-6)
    # Row-major order: the grid, not the flat sequence, was interpolated.
    if interpolation == "bilinear":
        np.testing.assert_allclose(out[..., 0], expected, atol=1e-5)


def test_constant_table_stays_constant_and_smooth_table_stays_close():
    constant = np.full((16, 3), 0.25, "float32")
    out = np.asarray(interpolate_position_embeddings(constant, grid_shape=(4, 4), new_grid_shape=(6, 6)))
    np.testing.assert_allclose(out, 0.25, atol=1e-6)
    # A smooth 2-D function resampled on a finer grid is close to the function.
    rows = cols = 8
    centres = (np.arange(rows) + 0.5) / rows
    smooth = np.sin(np.pi * centres)[:, None] * np.cos(np.pi * centres)[None, :]
    table = smooth.reshape(-1, 1).astype("float32")
    new = 12
    new_centres = (np.arange(new) + 0.5) / new
    truth = np.sin(np.pi * new_centres)[:, None] * np.cos(np.pi * new_centres)[None, :]
    got = np.asarray(
        interpolate_position_embeddings(table, grid_shape=(rows, cols), new_grid_shape=(new, new), interpolation="bicubic")
    ).reshape(new, new)
    assert np.max(np.abs(got - truth)) < 0.06


# --- resized() -----------------------------------------------------------------


def test_resized_same_size_is_exact_copy_and_new_layer():
    layer = PositionEmbedding(sequence_length=6, grid_shape=(2, 3))
    layer.build((None, 6, 4))
    same = layer.resized(new_grid_shape=(2, 3))
    assert same is not layer and same.built
    assert same.position_embeddings is not layer.position_embeddings
    np.testing.assert_array_equal(np.asarray(same.position_embeddings), np.asarray(layer.position_embeddings))


def test_resized_1d_and_grid():
    layer = PositionEmbedding(sequence_length=4)
    layer.build((None, 4, 2))
    layer.position_embeddings.assign(np.array([[0, 0], [1, 2], [2, 4], [3, 6]], "float32"))
    longer = layer.resized(new_sequence_length=8)
    assert longer.sequence_length == 8 and longer.grid_shape is None
    assert longer(np.zeros((1, 8, 2), "float32")).shape == (1, 8, 2)
    np.testing.assert_allclose(
        np.asarray(longer.position_embeddings)[:, 0], np.clip(_half_pixel_source(8, 4), 0, 3), atol=1e-6
    )
    # The original layer is untouched.
    assert layer.position_embeddings.shape == (4, 2)

    grid = PositionEmbedding(sequence_length=4, grid_shape=(2, 2), name="patch_positions")
    grid.build((None, 4, 3))
    bigger = grid.resized(new_grid_shape=(3, 4))
    assert bigger.sequence_length == 12 and bigger.grid_shape == (3, 4)
    assert bigger.name == "patch_positions"
    assert bigger.get_config()["grid_shape"] == [3, 4]


def test_resized_model_saves_and_loads(tmp_path):
    layer = PositionEmbedding(sequence_length=4, grid_shape=(2, 2))
    layer.build((None, 4, 3))
    bigger = layer.resized(new_grid_shape=(3, 3))
    inputs = keras.Input((9, 3))
    model = keras.Model(inputs, bigger(inputs))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    x = np.zeros((1, 9, 3), "float32")
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(model(x)))


def test_resized_argument_errors():
    grid = PositionEmbedding(sequence_length=4, grid_shape=(2, 2))
    with pytest.raises(ValueError, match="built"):
        grid.resized(new_grid_shape=(3, 3))
    grid.build((None, 4, 2))
    with pytest.raises(ValueError, match="new_grid_shape"):
        grid.resized(new_sequence_length=9)
    flat = PositionEmbedding(sequence_length=4)
    flat.build((None, 4, 2))
    with pytest.raises(ValueError, match="new_sequence_length"):
        flat.resized(new_grid_shape=(3, 3))


@pytest.mark.parametrize("positions", [[4, 0, 8, 2], [[0, 1, 2, 3], [5, 5, 0, 1]]])
def test_positions_match_keras_hub_with_copied_weights(positions):
    inputs = _inputs(length=4)
    ours, theirs = _ours_and_keras_hub(inputs)
    positions = np.array(positions, "int32")
    got = np.asarray(ours(inputs, positions=positions))
    np.testing.assert_array_equal(got, np.asarray(theirs(inputs, positions=positions)))
    table = np.asarray(ours.position_embeddings)
    np.testing.assert_array_equal(got, np.broadcast_to(table[positions], inputs.shape))


def test_positions_errors_name_the_problem():
    layer = PositionEmbedding(sequence_length=6)
    inputs = _inputs(length=3)
    with pytest.raises(ValueError, match=r"\[0, 6\)"):
        layer(inputs, positions=np.array([0, 6, 1]))
    with pytest.raises(ValueError, match="positions.shape=\\(4,\\)"):
        layer(inputs, positions=np.arange(4))
    with pytest.raises(ValueError, match="not both"):
        layer(inputs, start_index=1, positions=np.arange(3))
    with pytest.raises(ValueError, match="integers"):
        layer(inputs, positions=np.array([0.0, 1.0, 2.0]))


def test_positions_inside_a_compiled_function():
    import tensorflow as tf

    layer = PositionEmbedding(sequence_length=6)
    inputs, positions = _inputs(length=3), np.array([[5, 0, 2], [1, 1, 1]], "int32")
    eager = np.asarray(layer(inputs, positions=positions))
    compiled = tf.function(lambda x, p: layer(x, positions=p), jit_compile=True)(inputs, positions)
    np.testing.assert_array_equal(np.asarray(compiled), eager)
