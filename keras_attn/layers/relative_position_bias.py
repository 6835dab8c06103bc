"""T5's learned, bucketed relative position bias (Raffel et al., 2020)."""

import math

import keras
from keras import ops

from keras_attn.ops.bucketed_bias import BucketedBias


def relative_position_bucket(relative_position, bidirectional=True, num_buckets=32, max_distance=128):
    """T5's bucket of each relative position `key - query` (int32, same shape).

    Half the buckets (`max_exact`) hold one distance each; the rest cover
    distances up to `max_distance` on a logarithmic scale, and farther
    distances share the last bucket. Bidirectional buckets spend half their
    number on keys after the query; causal ones put every later key in
    bucket 0. The numbers equal Mesh TensorFlow's, Hugging Face's and
    keras-hub's `_relative_position_bucket`.

    >>> import numpy as np
    >>> distances = np.array([-200, -20, -3, 0, 3, 20, 200], "int32")
    >>> np.asarray(relative_position_bucket(distances)).tolist()
    [15, 10, 3, 0, 19, 26, 31]
    >>> np.asarray(relative_position_bucket(distances, bidirectional=False)).tolist()
    [31, 17, 3, 0, 0, 0, 0]
    """
    relative_position = ops.cast(relative_position, "int32")
    buckets = ops.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets = ops.cast(ops.greater(relative_position, 0), "int32") * num_buckets
        distance = ops.abs(relative_position)
    else:
        distance = -ops.minimum(relative_position, 0)  # later keys: distance 0
    max_exact = num_buckets // 2
    # Logarithmic buckets from max_exact to max_distance (the max() only keeps log() finite
    # where the exact bucket is taken anyway).
    scaled = ops.log(ops.cast(ops.maximum(distance, max_exact), "float32") / max_exact)
    scaled = scaled / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    large = ops.minimum(max_exact + ops.cast(scaled, "int32"), num_buckets - 1)
    return buckets + ops.where(ops.less(distance, max_exact), distance, large)


@keras.saving.register_keras_serializable(package="keras_attn")
class RelativePositionBias(keras.layers.Layer):
    """T5's relative position bias: one learned scalar per bucket and head.

    The bias of query `i` and key `j` is `embeddings[bucket(j - i), head]`,
    with the buckets of `relative_position_bucket`: exact for small
    distances, logarithmic up to `max_distance`. It is added to the attention
    logits (T5 has no other position information). A stack that owns one
    (`TransformerEncoder(position_bias=...)`, `TransformerDecoder(...)`)
    makes one `kernel_bias(...)` per call and hands it to all its blocks:
    dense attention computes the matrix once, chunked attention
    (`chunk_size`) block by block, never forming the whole matrix.

    Args:
        num_heads: attention heads (one column of the table each).
        num_buckets: number of buckets. Defaults to `32`.
        max_distance: distances from this on share the last bucket.
            Defaults to `128`.
        bidirectional: `True` for encoders (keys on both sides of the query
            get their own buckets), `False` for causal decoders.
        embeddings_initializer: initializer of the `(num_buckets, num_heads)`
            table. Defaults to `"random_normal"`.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        query_sequence: `(batch, query_length, ...)`; only its length is read.
        key_sequence: `(batch, key_length, ...)`; defaults to `query_sequence`.
        query_start_index: position of the first query (int or scalar
            integer tensor), e.g. the cache index in cached decoding, where
            the queries are the newest steps and the keys the whole cache.

    Returns:
        `(1, num_heads, query_length, key_length)` in the compute dtype,
        broadcastable to the attention logits.

    Masking: positions only; masks are the attention layer's business.

    References:
        - [Raffel et al., 2020, T5](https://arxiv.org/abs/1910.10683), section 2.1
        - [Shaw et al., 2018](https://arxiv.org/abs/1803.02155)

    Example:

    >>> import numpy as np
    >>> layer = RelativePositionBias(num_heads=2, num_buckets=8, max_distance=16)
    >>> layer(np.zeros((1, 5, 4), "float32")).shape
    TensorShape([1, 2, 5, 5])
    """

    def __init__(
        self,
        num_heads,
        num_buckets=32,
        max_distance=128,
        bidirectional=True,
        embeddings_initializer="random_normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (("num_heads", num_heads), ("num_buckets", num_buckets), ("max_distance", max_distance)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive int. Received: {name}={value}")
        exact = num_buckets // (4 if bidirectional else 2)  # buckets holding one distance each
        if exact < 1:
            raise ValueError(
                "`num_buckets` must be at least 4 (bidirectional) or 2 (causal). "
                f"Received: num_buckets={num_buckets}, bidirectional={bidirectional}"
            )
        if max_distance <= exact:
            raise ValueError(
                f"`max_distance` must exceed the {exact} exact buckets. Received: max_distance={max_distance}"
            )
        self.num_heads = num_heads
        self.num_buckets = num_buckets
        self.max_distance = max_distance
        self.bidirectional = bool(bidirectional)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)

    def build(self, query_sequence_shape=None, key_sequence_shape=None):
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.num_buckets, self.num_heads),
            initializer=self.embeddings_initializer,
            autocast=False,  # the kernels add the bias in float32
        )
        self.built = True

    def bucket(self, relative_position):
        """This layer's buckets of relative positions `key - query`."""
        return relative_position_bucket(relative_position, self.bidirectional, self.num_buckets, self.max_distance)

    def kernel_bias(self, query_start_index=0):
        """The bias as a `keras_attn.ops.BucketedBias` over this layer's table (float32).

        Pass it as `attention_bias` to attention with `chunk_size`: the
        kernel computes it block by block. `dense(query_length, key_length)`
        gives the whole `(1, heads, query, key)` tensor.
        """
        if not self.built:
            self.build()
        return BucketedBias(ops.convert_to_tensor(self.embeddings), self.bucket, query_start_index)

    def call(self, query_sequence, key_sequence=None, query_start_index=0):
        key_sequence = query_sequence if key_sequence is None else key_sequence
        bias = self.kernel_bias(query_start_index).dense(
            ops.shape(query_sequence)[1], ops.shape(key_sequence)[1]
        )  # (1, H, Tq, Tk)
        return ops.cast(bias, self.compute_dtype)

    def compute_output_shape(self, query_sequence_shape, key_sequence_shape=None):
        key_sequence_shape = query_sequence_shape if key_sequence_shape is None else key_sequence_shape
        return (1, self.num_heads, query_sequence_shape[1], key_sequence_shape[1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "num_buckets": self.num_buckets,
                "max_distance": self.max_distance,
                "bidirectional": self.bidirectional,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
            }
        )
        return config

