import numpy as np
import pytest
from layer_checks import run_layer_checks

from applications.speech.convolutional_subsampling import ConvolutionalSubsampling


def test_layer_checks():
    features = np.random.default_rng(0).standard_normal((2, 9, 4)).astype("float32")
    run_layer_checks(ConvolutionalSubsampling, {"hidden_dim": 6}, {"features": features},
                     expected_output_shape=(2, 5, 6))


def test_rejects_bad_hidden_dim():
    with pytest.raises(ValueError, match="hidden_dim=0"):
        ConvolutionalSubsampling(hidden_dim=0)


@pytest.mark.parametrize("length", [1, 4, 5, 8])
def test_padding_never_reaches_real_steps(length):
    """A clip padded with garbage and masked gives the real steps of the unpadded clip."""
    rng = np.random.default_rng(length)
    layer = ConvolutionalSubsampling(hidden_dim=5)
    clip = rng.standard_normal((1, length, 3)).astype("float32")
    padded = np.concatenate([clip, 100 * rng.standard_normal((1, 11 - length, 3)).astype("float32")], axis=1)
    mask = np.arange(11)[None, :] < length
    alone = np.asarray(layer(clip))
    masked = np.asarray(layer(padded, padding_mask=mask))
    real = int(np.asarray(layer.output_lengths(np.array([length])))[0])
    assert real == alone.shape[1] == (length + 1) // 2
    np.testing.assert_allclose(masked[:, :real], alone, atol=1e-5)
    step_mask = np.asarray(layer.compute_mask(padded, mask))
    assert step_mask.sum() == real


def test_matches_whisper_padding_with_fixed_weights():
    """conv2 reads frames 2t-1, 2t, 2t+1 with one zero frame of padding on each side."""
    layer = ConvolutionalSubsampling(hidden_dim=1)
    layer.build((None, None, 1))
    layer.conv_1.kernel.assign(np.array([0.0, 1.0, 0.0]).reshape(3, 1, 1))  # identity
    layer.conv_1.bias.assign([0.0])
    layer.conv_2.kernel.assign(np.array([1.0, 10.0, 100.0]).reshape(3, 1, 1))
    layer.conv_2.bias.assign([0.0])
    x = np.array([[[1.0], [2.0], [3.0]]], "float32")  # GELU(x) ~ x for these values
    gelu = lambda v: 0.5 * v * (1 + __import__("math").erf(v / 2**0.5))  # noqa: E731
    g = [gelu(v) for v in (1.0, 2.0, 3.0)]
    expected = [gelu(0 + 10 * g[0] + 100 * g[1]), gelu(g[1] + 10 * g[2] + 0)]
    np.testing.assert_allclose(np.asarray(layer(x))[0, :, 0], expected, rtol=1e-5)
