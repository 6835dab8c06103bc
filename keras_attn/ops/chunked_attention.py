"""Memory-efficient attention: online softmax over key blocks, queries in blocks.

The forward pass keeps, per query, a running maximum `m`, a running
normaliser `l` and an unnormalised output `acc`, one key block at a time
(Milakov & Gimelshein 2018; Rabe & Staats 2021). It stores only the output and
the log-sum-exp `lse = m + log(l)`; the backward pass recomputes each block's
probabilities `p = exp(s - lse)` instead of keeping the score matrix
(FlashAttention, Dao et al. 2022). Peak memory is `O(batch * heads * length)`
plus one `chunk x chunk` block, instead of `O(length^2)`.

Causal attention visits only the blocks at or below the diagonal. The key
padding added to reach a multiple of the chunk size and the causal pattern are
computed from positions inside each block, never materialised; so is a
relative-position bias given as a `keras_attn.ops.bucketed_bias.BucketedBias`
(its table's gradient is summed block by block).

Called through `keras_attn.ops.scaled_dot_product_attention(chunk_size=N)`.
"""

from keras import ops

from keras_attn.ops.broadcast_gradient import sum_to_shape
from keras_attn.ops.bucketed_bias import BucketedBias
from keras_attn.ops.hashed_dropout import keep_mask

_NEG = -1e9  # masked logit in float32


def _pad_axis(x, axis, target):
    pad = target - x.shape[axis]
    if pad == 0:
        return x
    widths = [[0, 0]] * len(x.shape)
    widths[axis] = [0, pad]
    return ops.pad(x, widths)


def _pad_blocked(x, q_pad, k_pad):
    """Pad a rank-4 mask/bias on its non-broadcast query and key axes."""
    if x is None:
        return None
    if x.shape[2] != 1:
        x = _pad_axis(x, 2, q_pad)
    if x.shape[3] != 1:
        x = _pad_axis(x, 3, k_pad)
    return x


def _block(tensor, axis, start, size):
    """Dynamic slice `[start:start+size]` along `axis`; size-1 (broadcast) axes stay."""
    if tensor is None or tensor.shape[axis] == 1:
        return tensor
    starts = [0] * len(tensor.shape)
    starts[axis] = start
    shape = list(tensor.shape)
    shape[axis] = size
    return ops.slice(tensor, starts, shape)


class _Blocks:
    """Static description of the blocked problem, shared by forward and backward."""

    def __init__(
        self, q_len, k_len, q_chunk, k_chunk, is_causal, mask, bias, dropout_rate=0.0, seed=None, position_bias=None
    ):
        self.q_len, self.k_len = q_len, k_len
        self.q_chunk, self.k_chunk = q_chunk, k_chunk
        self.num_q = -(-q_len // q_chunk)
        self.num_k = -(-k_len // k_chunk)
        self.is_causal = is_causal
        # Queries are aligned to the end of the keys.
        self.offset = k_len - q_len
        self.mask = mask  # (B|1, H|1, Tq_p|1, Tk_p|1) bool or None
        self.bias = bias  # same layout, float32, or None
        self.position_bias = position_bias  # a BucketedBias, computed per block, or None
        self.table = None  # its (num_buckets, heads) table, set inside the custom gradient
        self.dropout_rate = dropout_rate
        self.seed = seed  # scalar uint32 tensor when dropout_rate > 0

    def dropped(self, x, q_start, k_start):
        """`x * keep / (1 - rate)` for the block's dropout mask (rebuilt, never stored)."""
        if not self.dropout_rate:
            return x
        batch, heads = x.shape[0], x.shape[1]
        keep = keep_mask(
            self.seed, batch, heads,
            q_start + ops.arange(self.q_chunk, dtype="int32"),
            k_start + ops.arange(self.k_chunk, dtype="int32"),
            self.num_q * self.q_chunk, self.num_k * self.k_chunk, self.dropout_rate,
        )
        return ops.where(keep, x / (1.0 - self.dropout_rate), 0.0)

    def key_blocks_for(self, q_start):
        """Number of key blocks query block at `q_start` needs (causal: up to the diagonal)."""
        if not self.is_causal:
            return self.num_k
        last_key = q_start + self.q_chunk - 1 + self.offset
        needed = ops.floor_divide(last_key, self.k_chunk) + 1
        return ops.clip(needed, 0, self.num_k)

    def first_query_block_for(self, k_start):
        """First query block that may see key block at `k_start` (causal)."""
        if not self.is_causal:
            return 0
        first_query = k_start - self.offset
        return ops.clip(ops.floor_divide(first_query, self.q_chunk), 0, self.num_q)

    def scores(self, q_block, k_block, q_start, k_start):
        """Masked float32 logits `(B, H, cq, ck)` and the boolean validity mask."""
        s = ops.einsum("bhqd,bhkd->bhqk", q_block, k_block)
        if self.bias is not None:
            s = s + _block(_block(self.bias, 2, q_start, self.q_chunk), 3, k_start, self.k_chunk)
        if self.position_bias is not None:
            s = s + self.position_bias.block(self.table, q_start, self.q_chunk, k_start, self.k_chunk)
        q_pos = q_start + ops.arange(self.q_chunk, dtype="int32")[:, None]
        k_pos = k_start + ops.arange(self.k_chunk, dtype="int32")[None, :]
        valid = ops.less(k_pos, self.k_len)  # key padding
        if self.is_causal:
            valid = ops.logical_and(valid, ops.less_equal(k_pos, q_pos + self.offset))
        valid = valid[None, None]
        if self.mask is not None:
            user = _block(_block(self.mask, 2, q_start, self.q_chunk), 3, k_start, self.k_chunk)
            valid = ops.logical_and(valid, user)
        return ops.where(valid, s, _NEG), valid


def _forward(q, k, v, blocks):
    # q (B, H, Tq_p, D) pre-scaled float32; k (B, H, Tk_p, D); v (B, H, Tk_p, Dv)
    batch, heads, q_pad, _ = q.shape
    value_dim = v.shape[-1]
    cq, ck = blocks.q_chunk, blocks.k_chunk
    out = ops.zeros((batch, heads, q_pad, value_dim), "float32")
    lse = ops.zeros((batch, heads, q_pad), "float32")

    def query_step(i, carry):
        out, lse = carry
        q_start = i * cq
        q_block = ops.slice(q, [0, 0, q_start, 0], [batch, heads, cq, q.shape[-1]])

        def key_step(j, state):
            m, l, acc = state
            k_start = j * ck
            k_block = ops.slice(k, [0, 0, k_start, 0], [batch, heads, ck, k.shape[-1]])
            v_block = ops.slice(v, [0, 0, k_start, 0], [batch, heads, ck, value_dim])
            s, valid = blocks.scores(q_block, k_block, q_start, k_start)
            m_new = ops.maximum(m, ops.max(s, axis=-1))
            p = ops.where(valid, ops.exp(s - m_new[..., None]), 0.0)
            correction = ops.exp(m - m_new)
            l = l * correction + ops.sum(p, axis=-1)
            # The normaliser sums the undropped probabilities; dropout acts on the weights.
            p_dropped = blocks.dropped(p, q_start, k_start)
            acc = acc * correction[..., None] + ops.einsum("bhqk,bhkd->bhqd", p_dropped, v_block)
            return m_new, l, acc

        state = (
            ops.full((batch, heads, cq), _NEG, "float32"),
            ops.zeros((batch, heads, cq), "float32"),
            ops.zeros((batch, heads, cq, value_dim), "float32"),
        )
        m, l, acc = ops.fori_loop(0, blocks.key_blocks_for(q_start), key_step, state)
        safe_l = ops.where(l > 0.0, l, 1.0)
        out = ops.slice_update(out, [0, 0, q_start, 0], acc / safe_l[..., None])
        lse = ops.slice_update(lse, [0, 0, q_start], m + ops.log(safe_l))
        return out, lse

    return ops.fori_loop(0, blocks.num_q, query_step, (out, lse))


def _backward(q, k, v, out, lse, d_out, blocks):
    batch, heads, q_pad, head_dim = q.shape
    value_dim = v.shape[-1]
    cq, ck = blocks.q_chunk, blocks.k_chunk
    delta = ops.sum(d_out * out, axis=-1)  # (B, H, Tq_p)
    d_q = ops.zeros_like(q)
    d_k = ops.zeros_like(k)
    d_v = ops.zeros_like(v)
    has_bias = blocks.bias is not None
    has_table = blocks.position_bias is not None
    # Loop carries cannot hold None: (1, 1, 1, 1) / (1, 1) placeholders when there is no bias / table.
    d_bias = ops.zeros(blocks.bias.shape if has_bias else (1, 1, 1, 1), "float32")
    d_table = ops.zeros(blocks.table.shape if has_table else (1, 1), "float32")

    def key_step(j, carry):
        d_q, d_k, d_v, d_bias, d_table = carry
        k_start = j * ck
        k_block = ops.slice(k, [0, 0, k_start, 0], [batch, heads, ck, head_dim])
        v_block = ops.slice(v, [0, 0, k_start, 0], [batch, heads, ck, value_dim])

        def query_step(i, state):
            d_q, d_k_block, d_v_block, d_bias, d_table = state
            q_start = i * cq
            q_block = ops.slice(q, [0, 0, q_start, 0], [batch, heads, cq, head_dim])
            d_o_block = ops.slice(d_out, [0, 0, q_start, 0], [batch, heads, cq, value_dim])
            lse_block = ops.slice(lse, [0, 0, q_start], [batch, heads, cq])
            delta_block = ops.slice(delta, [0, 0, q_start], [batch, heads, cq])
            s, valid = blocks.scores(q_block, k_block, q_start, k_start)
            p = ops.where(valid, ops.exp(s - lse_block[..., None]), 0.0)
            d_v_block = d_v_block + ops.einsum("bhqk,bhqd->bhkd", blocks.dropped(p, q_start, k_start), d_o_block)
            # Through the dropout mask back to the undropped weights (FlashAttention-2).
            d_p = blocks.dropped(ops.einsum("bhqd,bhkd->bhqk", d_o_block, v_block), q_start, k_start)
            d_s = p * (d_p - delta_block[..., None])
            d_k_block = d_k_block + ops.einsum("bhqk,bhqd->bhkd", d_s, q_block)
            d_q_block = ops.einsum("bhqk,bhkd->bhqd", d_s, k_block)
            old = ops.slice(d_q, [0, 0, q_start, 0], [batch, heads, cq, head_dim])
            d_q = ops.slice_update(d_q, [0, 0, q_start, 0], old + d_q_block)
            if has_bias:
                d_bias = _accumulate_bias_grad(d_bias, d_s, q_start, k_start)
            if has_table:
                d_table = d_table + blocks.position_bias.table_gradient(d_s, q_start, k_start)
            return d_q, d_k_block, d_v_block, d_bias, d_table

        state = (
            d_q,
            ops.zeros((batch, heads, ck, head_dim), "float32"),
            ops.zeros((batch, heads, ck, value_dim), "float32"),
            d_bias,
            d_table,
        )
        d_q, d_k_block, d_v_block, d_bias, d_table = ops.fori_loop(
            blocks.first_query_block_for(k_start), blocks.num_q, query_step, state
        )
        d_k = ops.slice_update(d_k, [0, 0, k_start, 0], d_k_block)
        d_v = ops.slice_update(d_v, [0, 0, k_start, 0], d_v_block)
        return d_q, d_k, d_v, d_bias, d_table

    return ops.fori_loop(0, blocks.num_k, key_step, (d_q, d_k, d_v, d_bias, d_table))


def _accumulate_bias_grad(d_bias, d_s, q_start, k_start):
    """Add a block's `d_s` into the (possibly broadcast) bias gradient."""
    update = sum_to_shape(d_s, d_bias.shape)
    starts = [0, 0, q_start if d_bias.shape[2] != 1 else 0, k_start if d_bias.shape[3] != 1 else 0]
    old = ops.slice(d_bias, starts, list(update.shape))
    return ops.slice_update(d_bias, starts, old + update)


def chunked_attention(
    query, key, value, *, mask, bias, is_causal, scale, chunk_size, dropout_rate=0.0, dropout_seed=None
):
    """Blocked attention with the layout and contract of the dense path.

    `query (B, Tq, H, D)`, `key`/`value (B, Tk, H, D|Dv)` (heads already
    repeated for grouped-query attention); `mask` rank 4 or `None`; `bias`
    rank 4, a `BucketedBias` (computed per block, never whole) or `None`.
    With `dropout_rate > 0`, `dropout_seed` (a scalar uint32 tensor) seeds the
    hashed dropout mask of `keras_attn.ops.hashed_dropout`, which the backward
    pass rebuilds block by block.
    Returns `(B, Tq, H, Dv)` in `value`'s dtype.
    """
    q_len, k_len = query.shape[1], key.shape[1]
    if q_len is None or k_len is None:
        raise ValueError(
            "The chunked path needs static sequence lengths. Received: "
            f"query.shape={tuple(query.shape)}, key.shape={tuple(key.shape)}"
        )
    q_chunk, k_chunk = min(chunk_size, q_len), min(chunk_size, k_len)
    q_pad = -(-q_len // q_chunk) * q_chunk
    k_pad = -(-k_len // k_chunk) * k_chunk
    position_bias = bias if isinstance(bias, BucketedBias) else None
    bias = None if position_bias is not None else bias
    mask = _pad_blocked(mask, q_pad, k_pad)
    bias = _pad_blocked(None if bias is None else ops.cast(bias, "float32"), q_pad, k_pad)
    blocks = _Blocks(
        q_len, k_len, q_chunk, k_chunk, is_causal, mask, None, dropout_rate, dropout_seed, position_bias
    )
    out_dtype = value.dtype

    # (B, T, H, D) -> (B, H, T_p, D), float32, queries pre-scaled.
    q = _pad_axis(ops.transpose(ops.cast(query, "float32") * scale, (0, 2, 1, 3)), 2, q_pad)
    k = _pad_axis(ops.transpose(ops.cast(key, "float32"), (0, 2, 1, 3)), 2, k_pad)
    v = _pad_axis(ops.transpose(ops.cast(value, "float32"), (0, 2, 1, 3)), 2, k_pad)

    @ops.custom_gradient
    def attend(*tensors):
        # tensors: (q, k, v), then the bias or the bias table; it is differentiated too.
        q, k, v = tensors[:3]
        extra = tensors[3] if len(tensors) == 4 else None
        blocks.bias = extra if position_bias is None else None
        blocks.table = extra if position_bias is not None else None
        out, lse = _forward(q, k, v, blocks)

        def grad(*upstream, variables=None):
            d_q, d_k, d_v, d_bias, d_table = _backward(q, k, v, out, lse, upstream[0], blocks)
            if extra is None:
                return d_q, d_k, d_v
            return d_q, d_k, d_v, d_table if position_bias is not None else d_bias

        return out, grad

    if position_bias is not None:
        out = attend(q, k, v, ops.cast(position_bias.table, "float32"))
    else:
        out = attend(q, k, v) if bias is None else attend(q, k, v, bias)
    out = ops.transpose(out[:, :, :q_len], (0, 2, 1, 3))  # (B, Tq, H, Dv)
    return ops.cast(out, out_dtype)
