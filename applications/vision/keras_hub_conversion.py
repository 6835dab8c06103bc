"""`from_keras_hub`: import a keras-hub `ViTBackbone` into our `VisionTransformer`.

With internet access, a user starts from an ImageNet preset:

    import keras_hub
    hub = keras_hub.models.ViTBackbone.from_preset("vit_base_patch16_224_imagenet")
    backbone = applications.vision.from_keras_hub(hub)

The two models compute the same function: keras-hub adds the class token's
position embedding (row 0 of its table) after prepending the token, ours holds
the sum as the class token; every block is pre-norm with exact GELU. keras-hub
normalises pixels to [-1, 1], as `applications.vision.data.normalize` does.
"""

import numpy as np

from applications.vision.vision_transformer import VisionTransformer


def _with_zero_biases(weights, kernels_only, bias_shapes):
    """`[k1, k2, ...]` -> `[k1, 0, k2, 0, ...]` when the source had no biases."""
    if not kernels_only:
        return weights
    merged = []
    for kernel, bias_shape in zip(weights, bias_shapes):
        merged += [kernel, np.zeros(bias_shape, kernel.dtype)]
    return merged


def _copy(source_weights, target_layer):
    """Copy kernels (and biases, zero when the source has none) into `target_layer`."""
    target_shapes = [tuple(w.shape) for w in target_layer.weights]
    kernels_only = len(source_weights) * 2 == len(target_shapes)
    weights = _with_zero_biases(source_weights, kernels_only, target_shapes[1::2])
    target_layer.set_weights(weights)


def from_keras_hub(vit_backbone, name=None):
    """Convert a keras-hub `ViTBackbone` into a `VisionTransformer` with the same weights.

    Args:
        vit_backbone: a built `keras_hub.models.ViTBackbone` (channels_last).
        name: the new layer's name; defaults to Keras' automatic name.

    Returns:
        A built `VisionTransformer` whose `encode(images)` equals the keras-hub
        backbone's output, `(batch, num_tokens, hidden_dim)`; `pooling` is
        `"token"` when the keras-hub model has a class token, else `"gap"`.

    Raises:
        ValueError: for a channels_first model.

    Example:

    >>> import keras_hub, numpy as np
    >>> hub = keras_hub.models.ViTBackbone(image_shape=(8, 8, 3), patch_size=4, num_layers=1,
    ...                                    num_heads=2, hidden_dim=8, mlp_dim=16)
    >>> ours = from_keras_hub(hub)
    >>> images = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
    >>> bool(np.allclose(ours.encode(images), hub(images), atol=1e-5))
    True
    """
    if getattr(vit_backbone, "data_format", "channels_last") != "channels_last":
        raise ValueError(
            "Only channels_last keras-hub ViT backbones are supported. "
            f"Received: data_format={vit_backbone.data_format!r}"
        )
    height, width, channels = vit_backbone.image_shape
    embedding = vit_backbone.get_layer("vit_patching_and_embedding")
    encoder = vit_backbone.get_layer("vit_encoder")
    ours = VisionTransformer(
        image_size=(int(height), int(width)),
        patch_size=tuple(int(p) for p in vit_backbone.patch_size),
        num_layers=vit_backbone.num_layers,
        hidden_dim=vit_backbone.hidden_dim,
        num_heads=vit_backbone.num_heads,
        intermediate_dim=vit_backbone.mlp_dim,
        num_channels=int(channels),
        pooling="token" if vit_backbone.use_class_token else "gap",
        dropout_rate=vit_backbone.dropout_rate,
        attention_dropout_rate=vit_backbone.attention_dropout,
        layer_norm_epsilon=vit_backbone.layer_norm_epsilon,
        name=name,
    )
    ours.build((None, int(height), int(width), int(channels)))

    # Embeddings: patch convolution, class token (+ its position), the patch grid's positions.
    _copy(embedding.patch_embedding.get_weights(), ours.patch_embedding)
    positions = embedding.position_embedding.get_weights()[0]  # (prefix + P, D)
    if vit_backbone.use_class_token:
        class_token = embedding.class_token.numpy() + positions[0][None, None, :]
        ours.class_token.assign(class_token)
        positions = positions[1:]
    ours.position_embedding.position_embeddings.assign(positions)

    # Encoder blocks: ln_1 / mha / ln_2 / mlp, then the final norm.
    for theirs, block in zip(encoder.encoder_layers, ours.encoder.blocks):
        block.self_attention_norm.set_weights(theirs.layer_norm_1.get_weights())
        _copy(theirs.mha.get_weights(), block.self_attention_layer)
        block.feed_forward_norm.set_weights(theirs.layer_norm_2.get_weights())
        _copy(theirs.mlp.dense_1.get_weights(), block.feed_forward.intermediate_dense)
        _copy(theirs.mlp.dense_2.get_weights(), block.feed_forward.output_dense)
    ours.encoder.output_norm.set_weights(encoder.layer_norm.get_weights())
    return ours
