"""Dropout masks that a backward pass can rebuild block by block.

`keras.random` draws from a seed that must be an int or a `SeedGenerator`, so
a blocked attention kernel that recomputes its probabilities in the backward
pass cannot redraw the same dropout mask for each block. Here the keep/drop
decision of attention weight `(b, h, q, k)` is a hash of that position and one
seed (a counter-based generator, as in Salmon et al. 2011, "Random123"), so any
block of the mask can be rebuilt exactly from its coordinates. The hash is
MurmurHash3's 32-bit finaliser, in `uint32` arithmetic that wraps the same way
on every backend.
"""

from keras import ops

_PRIME_1 = 0x85EBCA6B
_PRIME_2 = 0xC2B2AE35
_GOLDEN = 0x9E3779B9


def _u32(value):
    return ops.convert_to_tensor(value, "uint32")


def _fmix32(x):
    x = ops.bitwise_xor(x, ops.right_shift(x, _u32(16)))
    x = ops.multiply(x, _u32(_PRIME_1))
    x = ops.bitwise_xor(x, ops.right_shift(x, _u32(13)))
    x = ops.multiply(x, _u32(_PRIME_2))
    return ops.bitwise_xor(x, ops.right_shift(x, _u32(16)))


def keep_mask(seed, batch, heads, query_positions, key_positions, query_length, key_length, rate):
    """Boolean `(batch, heads, len(query_positions), len(key_positions))` mask,
    `True` with probability `1 - rate`, a pure function of the positions and `seed`.

    Args:
        seed: scalar `uint32` tensor.
        batch, heads: static sizes.
        query_positions, key_positions: int32 vectors of absolute positions.
        query_length, key_length: the (padded) lengths the positions index.
        rate: drop probability in [0, 1).

    >>> import numpy as np
    >>> from keras import ops
    >>> seed = ops.convert_to_tensor(7, "uint32")
    >>> full = keep_mask(seed, 1, 1, np.arange(8), np.arange(8), 8, 8, 0.5)
    >>> block = keep_mask(seed, 1, 1, np.arange(4, 8), np.arange(2, 6), 8, 8, 0.5)
    >>> bool(np.all(np.asarray(full)[:, :, 4:8, 2:6] == np.asarray(block)))
    True
    """
    row = ops.cast(ops.arange(batch * heads, dtype="int32"), "uint32")
    row = ops.reshape(row, (batch, heads, 1, 1))
    q = ops.reshape(ops.cast(ops.cast(query_positions, "int32"), "uint32"), (1, 1, -1, 1))
    k = ops.reshape(ops.cast(ops.cast(key_positions, "int32"), "uint32"), (1, 1, 1, -1))
    counter = (row * _u32(query_length) + q) * _u32(key_length) + k  # wraps modulo 2**32
    mixed = _fmix32(ops.bitwise_xor(counter, _fmix32(seed + _u32(_GOLDEN))))
    # The top 24 bits as a uniform number in [0, 2**24).
    uniform = ops.right_shift(mixed, _u32(8))
    return ops.greater_equal(uniform, _u32(int(round(rate * (1 << 24)))))
