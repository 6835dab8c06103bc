"""The token-by-token loop shared by greedy search and sampling."""

from keras import ops


def decode_loop(step_fn, choose_fn, start_ids, cache, max_length, end_id, pad_id=0):
    """Fill `(batch, max_length)` token ids, one chosen token per step.

    Position 0 holds `start_ids`. A sequence that emitted `end_id` gets
    `pad_id` afterwards; the loop stops early when every sequence has ended.

    Args:
        step_fn: `(token_ids (B, 1), cache, index) -> (logits (B, V), cache)`.
        choose_fn: `(logits (B, V) float32, index) -> (B,)` int32 token ids.
        start_ids: `(batch,)` int32.
        cache: the decoder state, threaded through `step_fn`.
        max_length: total length, start token included.
        end_id: the end token, or `None` to always run `max_length` steps.
    """
    start_ids = ops.cast(start_ids, "int32")
    batch = ops.shape(start_ids)[0]
    tokens = ops.full((batch, max_length), pad_id, "int32")
    tokens = ops.slice_update(tokens, [0, 0], start_ids[:, None])
    finished = ops.zeros((batch,), "bool")

    def cond(index, tokens, finished, cache):
        return ops.logical_and(index < max_length - 1, ops.logical_not(ops.all(finished)))

    def body(index, tokens, finished, cache):
        current = ops.slice(tokens, [0, index], [batch, 1])
        logits, cache = step_fn(current, cache, index)
        chosen = ops.cast(choose_fn(ops.cast(logits, "float32"), index), "int32")
        chosen = ops.where(finished, pad_id, chosen)
        tokens = ops.slice_update(tokens, [0, index + 1], chosen[:, None])
        if end_id is not None:
            finished = ops.logical_or(finished, ops.equal(chosen, end_id))
        return index + 1, tokens, finished, cache

    _, tokens, _, _ = ops.while_loop(cond, body, (ops.convert_to_tensor(0, "int32"), tokens, finished, cache))
    return tokens
