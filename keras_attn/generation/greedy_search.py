"""Greedy search: the most probable token at every step."""

from keras import ops

from keras_attn.generation.decode_loop import decode_loop


def greedy_search(step_fn, start_ids, cache, max_length, end_id=None, pad_id=0):
    """Greedy decoding.

    Args:
        step_fn: `(token_ids (B, 1), cache, index) -> (logits (B, V), cache)`.
        start_ids: `(batch,)` first token of every sequence.
        cache: decoder state for `step_fn` (batch on axis 0).
        max_length: output length, start token included.
        end_id: stop token; later positions are `pad_id`.

    Returns:
        `(batch, max_length)` int32 token ids.

    Example:

    >>> import numpy as np
    >>> from keras import ops
    >>> table = np.eye(4, k=1, dtype="float32")  # token t -> t + 1
    >>> step = lambda ids, cache, index: (ops.take(table, ids[:, 0], axis=0), cache)
    >>> np.asarray(greedy_search(step, np.array([0]), (), max_length=4)).tolist()
    [[0, 1, 2, 3]]
    """
    return decode_loop(
        step_fn, lambda logits, index: ops.argmax(logits, axis=-1), start_ids, cache,
        max_length, end_id, pad_id,
    )
