"""An additive attention bias looked up from a small table by relative position.

`bias[h, i, j] = table[bucket(key_position_j - query_position_i), h]`, with
`query_position_i = query_start_index + i` and `key_position_j = j`. The dense
kernel path materialises it (`dense`); the chunked path
(`keras_attn/ops/chunked_attention.py`) computes it block by block
(`block`) in the forward pass and again in the recomputing backward pass, and
sums the table's gradient block by block (`table_gradient`), so the
`(query_length, key_length)` matrix never exists at long lengths.

A stack makes one per call and hands the same object to all its blocks: the
dense bias is then computed once (`dense` keeps it per static shape) and stays
float32 under mixed precision (a plain tensor bias passed to a layer is cast
to the compute dtype like any input).

`keras_attn.layers.RelativePositionBias` (T5) makes one with its learned
table; any bucketing of relative positions works the same way.
"""

from keras import ops


class BucketedBias:
    """A relative-position bias `table[bucket_fn(key - query)]`, shaped `(1, heads, query, key)`.

    Args:
        table: `(num_buckets, heads)` float tensor (e.g. a layer's variable
            value); its gradient is returned by both kernel paths.
        bucket_fn: int32 relative positions `key - query` (any shape) ->
            int32 buckets in `[0, num_buckets)`, same shape.
        query_start_index: position of the first query (int or scalar
            integer tensor): the cache index during cached decoding.

    Example:

    >>> import numpy as np
    >>> from keras import ops
    >>> table = np.array([[0.0], [1.0], [2.0]], "float32")  # 3 buckets, 1 head
    >>> bias = BucketedBias(table, lambda d: ops.clip(d + 1, 0, 2))  # d=-1 -> 0, 0 -> 1, 1 -> 2
    >>> np.asarray(bias.dense(2, 2))[0, 0].tolist()
    [[1.0, 2.0], [0.0, 1.0]]
    """

    def __init__(self, table, bucket_fn, query_start_index=0):
        if len(table.shape) != 2:
            raise ValueError(
                f"`table` must have rank 2 (num_buckets, heads). Received: table.shape={tuple(table.shape)}"
            )
        self.table = table
        self.bucket_fn = bucket_fn
        self.query_start_index = query_start_index
        self._dense = {}  # (query_length, key_length) -> the whole bias, for static lengths

    @property
    def num_heads(self):
        return self.table.shape[1]

    def buckets(self, query_start, query_length, key_start, key_length):
        """int32 `(query_length, key_length)` buckets of the block at `(query_start, key_start)`."""
        query_positions = ops.arange(query_length, dtype="int32") + ops.cast(query_start, "int32")
        query_positions = query_positions + ops.cast(self.query_start_index, "int32")
        key_positions = ops.arange(key_length, dtype="int32") + ops.cast(key_start, "int32")
        return ops.cast(self.bucket_fn(key_positions[None, :] - query_positions[:, None]), "int32")

    def block(self, table, query_start, query_length, key_start, key_length):
        """float32 `(1, heads, query_length, key_length)` bias of one block, from `table`."""
        buckets = self.buckets(query_start, query_length, key_start, key_length)  # (q, k)
        values = ops.take(ops.cast(table, "float32"), buckets, axis=0)  # (q, k, H)
        return ops.expand_dims(ops.transpose(values, (2, 0, 1)), 0)  # (1, H, q, k)

    def table_gradient(self, d_logits, query_start, key_start):
        """The table's gradient from one block's logit gradient `d_logits (B, H, q, k)`."""
        buckets = self.buckets(query_start, d_logits.shape[2], key_start, d_logits.shape[3])
        one_hot = ops.one_hot(buckets, self.table.shape[0], dtype="float32")  # (q, k, num_buckets)
        gradient = ops.einsum("bhqk,qkn->nh", d_logits, one_hot)  # (num_buckets, H)
        if self.num_heads == 1 and gradient.shape[1] != 1:
            gradient = ops.sum(gradient, axis=1, keepdims=True)  # a table shared by every head
        return gradient

    def dense(self, query_length, key_length):
        """The whole float32 `(1, heads, query_length, key_length)` bias (the dense kernel path).

        Computed once per static `(query_length, key_length)`; every later
        call (the next blocks of a stack) returns the same tensor.
        """
        if not (isinstance(query_length, int) and isinstance(key_length, int)):
            return self.block(self.table, 0, query_length, 0, key_length)  # dynamic lengths
        if (query_length, key_length) not in self._dense:
            self._dense[query_length, key_length] = self.block(self.table, 0, query_length, 0, key_length)
        return self._dense[query_length, key_length]
