"""Greedy search: the most probable token at every step."""

from keras import ops

from keras_attn.generation.decode_loop import decode_loop


def greedy_search(
    step_fn, start_ids, cache, max_length, end_id=None, pad_id=0, prompt_lengths=None, prefill_fn=None
):
    """Greedy decoding.

    Args:
        step_fn: `(token_ids (B, 1), cache, index) -> (logits (B, V), cache)`.
        start_ids: `(batch,)` first token of every sequence, or a prompt
            `(batch, prompt_length)` right-padded with `pad_id`.
        cache: decoder state for `step_fn` (batch on axis 0).
        max_length: output length, prompt included.
        end_id: stop token (after the prompt); later positions are `pad_id`.
        pad_id: the padding token.
        prompt_lengths: `(batch,)` real prompt tokens per row; default: the
            whole `prompt_length`. Rows are teacher-forced until theirs ends.
        prefill_fn: `(prompt_ids (B, P), cache) -> cache`: fill the cache for
            the whole prompt in one pass (e.g. the decoder over `P` tokens
            with cache update index 0); the loop then starts at
            `min(prompt_lengths) - 1`. Default: feed the prompt step by step.

    Returns:
        `(batch, max_length)` int32 token ids, beginning with the prompt.

    Example:

    >>> import numpy as np
    >>> from keras import ops
    >>> table = np.eye(4, k=1, dtype="float32")  # token t -> t + 1
    >>> step = lambda ids, cache, index: (ops.take(table, ids[:, 0], axis=0), cache)
    >>> np.asarray(greedy_search(step, np.array([0]), (), max_length=4)).tolist()
    [[0, 1, 2, 3]]
    >>> prompts = np.array([[0, 0], [1, 2]])  # the first prompt is one token long
    >>> np.asarray(greedy_search(step, prompts, (), max_length=3, prompt_lengths=np.array([1, 2]))).tolist()
    [[0, 1, 2], [1, 2, 3]]
    """
    return decode_loop(
        step_fn, lambda logits, index: ops.argmax(logits, axis=-1), start_ids, cache,
        max_length, end_id, pad_id, prompt_lengths, prefill_fn,
    )
