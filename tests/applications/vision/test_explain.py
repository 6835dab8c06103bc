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


def _zero(weights):
    return [np.zeros_like(w) for w in weights]


def test_rollout_finds_the_attended_patch():
    """Only one patch has a non-zero embedding, and every block's keys pick it out: every token
    attends to it, so rollout must put the maximum there (for any random initialisation).

    Values, feed-forward networks, positions and the class token are zeroed, so the residual
    stream stays the patch embeddings through every block; the bright patch's embedding is
    +-40 (not constant, which the pre-norm layer norm would erase), the others are zero."""
    backbone = _backbone()
    backbone(np.zeros((1, 8, 8, 1), "float32"))
    marked = np.zeros((1, 8, 8, 1), "float32")
    marked[0, 2:4, 4:6, 0] = 10.0  # patch (1, 2)
    pattern = np.tile([1.0, -1.0], 4).astype("float32")  # (8,)
    backbone.patch_embedding.set_weights([np.broadcast_to(pattern, (2, 2, 1, 8)).copy(), np.zeros(8, "float32")])
    backbone.position_embedding.set_weights(_zero(backbone.position_embedding.get_weights()))
    backbone.class_token.assign(np.zeros(backbone.class_token.shape, "float32"))
    for block in backbone.encoder.blocks:
        attention = block.self_attention_layer
        weights = attention.get_weights()  # q kernel, q bias, k kernel, k bias, v kernel, v bias, out kernel, bias
        weights[0] = np.zeros_like(weights[0])
        weights[1] = np.full_like(weights[1], 3.0)  # constant queries
        weights[2] = 3.0 * np.broadcast_to(pattern.reshape((8,) + (1,) * (weights[2].ndim - 1)), weights[2].shape)
        weights[3:] = _zero(weights[3:])  # no key bias, no values: the residual stream is unchanged
        attention.set_weights(weights)
        block.feed_forward.set_weights(_zero(block.feed_forward.get_weights()))
    relevance = attention_rollout(backbone, marked)[0]
    assert np.unravel_index(np.argmax(relevance), relevance.shape) == (1, 2)
