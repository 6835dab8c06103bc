"""`VisionTransformer`: the ViT backbone, images in, features out."""

import keras
from keras import ops

from applications.vision.sizes import auto_patch_size, decode_size
from keras_attn.layers import PositionEmbedding, TransformerEncoder

_POOLINGS = ("token", "gap")


def size_pair(value, name="image_size"):
    """An int or a pair of ints -> a pair of positive ints."""
    pair = (value, value) if isinstance(value, int) else value
    if (
        not isinstance(pair, (tuple, list))
        or len(pair) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in pair)
    ):
        raise ValueError(f"`{name}` must be a positive int or a pair of them. Received: {name}={value}")
    return tuple(pair)


@keras.saving.register_keras_serializable(package="applications.vision")
class VisionTransformer(keras.layers.Layer):
    """Vision Transformer backbone (Dosovitskiy et al. 2021).

    The image is cut into non-overlapping patches by a strided convolution,
    each patch becomes one token, a learned position embedding is added (one
    vector per cell of the patch grid), and a stack of pre-norm
    `keras_attn.layers.TransformerEncoderBlock`s with a final layer norm
    encodes the tokens. `pooling="token"` prepends a learned class token and
    returns its output; `pooling="gap"` averages the patch outputs. The class
    token carries its own position (the token and its position embedding are
    one sum, so one vector).

    `resized(new_image_size)` moves a trained backbone to another resolution:
    the position table is interpolated on the 2-D patch grid
    (`PositionEmbedding.resized`), every other weight is copied.

    Args:
        image_size: int or `(height, width)`, each divisible by the patch size.
        patch_size: int or `(height, width)` of a patch.
        num_layers: encoder blocks.
        hidden_dim: token width.
        num_heads: attention heads; must divide `hidden_dim`.
        intermediate_dim: width of the feed-forward hidden layer ("MLP dim").
        num_channels: image channels (1 greyscale, 3 RGB, or any count).
        pooling: `"token"` (class token) or `"gap"` (global average pooling).
        dropout_rate: dropout on the embeddings and in every block.
        attention_dropout_rate: dropout on the attention weights.
        stochastic_depth_rate: drop-path rate of the last block, growing
            linearly from 0 at the first.
        layer_norm_epsilon: epsilon of every layer norm (1e-6 as in ViT).
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        images: `(batch, height, width, num_channels)`, normalised pixels
            (see `applications.vision.data.normalize`).
        training: enables dropout and stochastic depth.

    Returns:
        `(batch, hidden_dim)` pooled features. `encode(images)` returns every
        token, `(batch, num_tokens, hidden_dim)`, class token first.

    References:
        Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words"
        (https://arxiv.org/abs/2010.11929).

    Example:

    >>> import numpy as np
    >>> backbone = VisionTransformer(image_size=8, patch_size=4, num_layers=1,
    ...                              hidden_dim=8, num_heads=2, intermediate_dim=16, num_channels=1)
    >>> backbone(np.zeros((2, 8, 8, 1), "float32")).shape
    TensorShape([2, 8])
    >>> backbone.encode(np.zeros((2, 8, 8, 1), "float32")).shape  # class token + 2x2 patches
    TensorShape([2, 5, 8])
    >>> backbone.resized(16).grid_shape
    (4, 4)
    """

    def __init__(
        self,
        image_size,
        patch_size,
        num_layers,
        hidden_dim,
        num_heads,
        intermediate_dim,
        num_channels=3,
        pooling="token",
        dropout_rate=0.0,
        attention_dropout_rate=0.0,
        stochastic_depth_rate=0.0,
        layer_norm_epsilon=1e-6,
        **kwargs,
    ):
        super().__init__(**kwargs)
        image_size = size_pair(image_size, "image_size")
        patch_size = size_pair(patch_size, "patch_size")
        if image_size[0] % patch_size[0] or image_size[1] % patch_size[1]:
            raise ValueError(
                "`image_size` must be divisible by `patch_size`. "
                f"Received: image_size={image_size}, patch_size={patch_size}"
            )
        for name, value in (
            ("num_layers", num_layers),
            ("hidden_dim", hidden_dim),
            ("num_heads", num_heads),
            ("intermediate_dim", intermediate_dim),
            ("num_channels", num_channels),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{name}` must be a positive int. Received: {name}={value}")
        if hidden_dim % num_heads:
            raise ValueError(
                "`hidden_dim` must be divisible by `num_heads`. "
                f"Received: hidden_dim={hidden_dim}, num_heads={num_heads}"
            )
        if pooling not in _POOLINGS:
            raise ValueError(f"`pooling` must be one of {_POOLINGS}. Received: pooling={pooling!r}")
        self.image_size = image_size
        self.patch_size = patch_size
        self.num_layers = num_layers
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.num_channels = num_channels
        self.pooling = pooling
        self.dropout_rate = dropout_rate
        self.attention_dropout_rate = attention_dropout_rate
        self.stochastic_depth_rate = stochastic_depth_rate
        self.layer_norm_epsilon = layer_norm_epsilon

        self.patch_embedding = keras.layers.Conv2D(
            hidden_dim,
            kernel_size=patch_size,
            strides=patch_size,
            padding="valid",
            name="patch_embedding",
            dtype=self.dtype_policy,
        )
        self.position_embedding = PositionEmbedding(
            sequence_length=self.num_patches,
            grid_shape=self.grid_shape,
            initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="position_embedding",
            dtype=self.dtype_policy,
        )
        self.embedding_dropout = keras.layers.Dropout(dropout_rate, dtype=self.dtype_policy)
        self.encoder = TransformerEncoder(
            num_layers=num_layers,
            num_heads=num_heads,
            intermediate_dim=intermediate_dim,
            dropout_rate=dropout_rate,
            activation="gelu",
            norm_first=True,
            layer_norm_epsilon=layer_norm_epsilon,
            attention_dropout_rate=attention_dropout_rate,
            stochastic_depth_rate=stochastic_depth_rate,
            final_norm=True,
            name="encoder",
            dtype=self.dtype_policy,
        )

    @classmethod
    def from_size(cls, size, image_size, num_channels=3, **kwargs):
        """A backbone of a named size ("S/16", or "nano" with a patch fitted to `image_size`;
        see `sizes.py`).

        `hidden_dim`, `num_layers`, `num_heads`, `intermediate_dim` and
        `patch_size` in `kwargs` override the named ones (`None` keeps them);
        other `kwargs` go to `__init__`.
        """
        dimensions = {
            key: kwargs.pop(key)
            for key in ("hidden_dim", "num_layers", "num_heads", "intermediate_dim", "patch_size")
            if key in kwargs
        }
        decoded = decode_size(size, **dimensions)
        if decoded["patch_size"] is None:  # "VARIANT" alone: a patch that fits the image
            decoded["patch_size"] = auto_patch_size(size_pair(image_size))
        return cls(image_size=image_size, num_channels=num_channels, **decoded, **kwargs)

    @property
    def grid_shape(self):
        """`(rows, cols)` of the patch grid."""
        return (self.image_size[0] // self.patch_size[0], self.image_size[1] // self.patch_size[1])

    @property
    def num_patches(self):
        return self.grid_shape[0] * self.grid_shape[1]

    @property
    def num_prefix_tokens(self):
        """Tokens before the patches: 1 (the class token) or 0."""
        return 1 if self.pooling == "token" else 0

    @property
    def image_shape(self):
        """`(height, width, num_channels)` of the images this backbone takes."""
        return (*self.image_size, self.num_channels)

    def build(self, images_shape):
        if len(images_shape) != 4 or tuple(images_shape[1:]) != self.image_shape:
            raise ValueError(
                f"`images` must have shape (batch, {', '.join(map(str, self.image_shape))}); "
                "use `resized(new_image_size)` for another resolution. "
                f"Received: images.shape={tuple(images_shape)}"
            )
        self.patch_embedding.build(images_shape)
        tokens_shape = (images_shape[0], self.num_patches, self.hidden_dim)
        self.position_embedding.build(tokens_shape)
        if self.pooling == "token":
            self.class_token = self.add_weight(
                name="class_token", shape=(1, 1, self.hidden_dim), initializer="zeros"
            )
        self.encoder.build((images_shape[0], self.num_patches + self.num_prefix_tokens, self.hidden_dim))
        self.built = True

    def embed(self, images, training=None):
        """Tokens entering the encoder: `(batch, num_tokens, hidden_dim)`."""
        if not self.built:  # `embed`/`encode` called before the layer itself
            self.build(tuple(images.shape))
        x = self.patch_embedding(images)  # (B, rows, cols, D)
        x = ops.reshape(x, (-1, self.num_patches, self.hidden_dim))  # (B, P, D), row-major
        x = x + self.position_embedding(x)
        if self.pooling == "token":
            class_token = ops.cast(self.class_token, x.dtype)
            class_token = ops.broadcast_to(class_token, (ops.shape(x)[0], 1, self.hidden_dim))
            x = ops.concatenate([class_token, x], axis=1)  # (B, 1 + P, D)
        return self.embedding_dropout(x, training=training)

    def encode(self, images, training=None):
        """Every output token after the final norm: `(batch, num_tokens, hidden_dim)`."""
        return self.encoder(self.embed(images, training=training), training=training)

    def call(self, images, training=None):
        tokens = self.encode(images, training=training)  # (B, T, D)
        if self.pooling == "token":
            return tokens[:, 0]
        return ops.mean(tokens, axis=1)

    def compute_output_shape(self, images_shape):
        return (images_shape[0], self.hidden_dim)

    def resized(self, image_size):
        """A new backbone for `image_size` with this one's weights; the position
        embeddings are interpolated on the patch grid (exact copy at the same
        size). This layer must be built; it is left unchanged."""
        if not self.built:
            raise ValueError(f"Layer '{self.name}' must be built (called once) before `resized`.")
        config = self.get_config()
        config["image_size"] = list(size_pair(image_size, "image_size"))
        new = self.__class__.from_config(config)
        new.build((None, *new.image_shape))
        new.patch_embedding.set_weights(self.patch_embedding.get_weights())
        new.encoder.set_weights(self.encoder.get_weights())
        if self.pooling == "token":
            new.class_token.assign(self.class_token)
        table = self.position_embedding.resized(new_grid_shape=new.grid_shape)
        new.position_embedding.position_embeddings.assign(table.position_embeddings)
        return new

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "image_size": list(self.image_size),
                "patch_size": list(self.patch_size),
                "num_layers": self.num_layers,
                "hidden_dim": self.hidden_dim,
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "num_channels": self.num_channels,
                "pooling": self.pooling,
                "dropout_rate": self.dropout_rate,
                "attention_dropout_rate": self.attention_dropout_rate,
                "stochastic_depth_rate": self.stochastic_depth_rate,
                "layer_norm_epsilon": self.layer_norm_epsilon,
            }
        )
        return config
