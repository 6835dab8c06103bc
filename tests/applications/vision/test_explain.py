import numpy as np

from applications.vision import VisionTransformer
from applications.vision.explain import attention_maps, attention_rollout


def _backbone(pooling="token"):
    return VisionTransformer(
        image_size=8, patch_size=2, num_layers=2, hidden_dim=8, num_heads=2, intermediate_dim=16,
        num_channels=1, pooling=pooling,
    )


def test_maps_are_the_blocks_attention():
    backbone = _backbone()
    images = np.random.default_rng(0).normal(size=(2, 8, 8, 1)).astype("float32")
    maps = attention_maps(backbone, images)
    assert len(maps) == 2 and maps[0].shape == (2, 2, 17, 17)
    np.testing.assert_allclose(maps[0].sum(axis=-1), 1.0, atol=1e-5)  # softmax rows


def test_rollout_shape_and_range():
    images = np.random.default_rng(0).normal(size=(3, 8, 8, 1)).astype("float32")
    for pooling in ("token", "gap"):
        relevance = attention_rollout(_backbone(pooling), images, head_fusion="max")
        assert relevance.shape == (3, 4, 4)
        assert relevance.min() >= 0.0 and relevance.max() <= 1.0 + 1e-9


def test_rollout_finds_the_attended_patch():
    """With queries/keys zeroed except for a key bias that favours one patch, every
    token attends to it; rollout must put the maximum there."""
    backbone = _backbone()
    images = np.zeros((1, 8, 8, 1), "float32")
    backbone(images)
    marked = np.zeros((1, 8, 8, 1), "float32")
    marked[0, 2:4, 4:6, 0] = 10.0  # patch (1, 2)
    backbone.patch_embedding.set_weights([np.ones((2, 2, 1, 8), "float32"), np.zeros(8, "float32")])
    for block in backbone.encoder.blocks:
        attention = block.self_attention_layer
        q_kernel, q_bias, k_kernel, k_bias = (w for w in attention.get_weights()[:4])
        weights = attention.get_weights()
        weights[0] = np.zeros_like(q_kernel)
        weights[1] = np.full_like(q_bias, 3.0)  # constant queries
        weights[2] = np.ones_like(k_kernel) * 3.0  # keys grow with the patch's brightness
        weights[3] = np.zeros_like(k_bias)
        attention.set_weights(weights)
    relevance = attention_rollout(backbone, marked)[0]
    assert np.unravel_index(np.argmax(relevance), relevance.shape) == (1, 2)
