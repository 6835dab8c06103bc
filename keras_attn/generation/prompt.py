"""Prompts for the searches: start ids or a right-padded prompt, and its prefill.

Every search accepts `(batch,)` start ids (a one-token prompt) or a
`(batch, prompt_length)` prompt right-padded with `pad_id`, with
`prompt_lengths (batch,)`. A row is teacher-forced until its prompt ends: its
prompt tokens are written, not chosen, and add nothing to scores or lengths.

With a `prefill_fn(prompt_ids (B, P), cache) -> cache` the cache is filled for
the whole padded prompt in one pass (the decoder over `P` tokens with cache
update index 0), and the loop starts at `min(prompt_lengths) - 1`: that token
is fed again for the first logits, and rows with longer prompts are forced
until theirs ends (as keras-hub's `GPT2CausalLM.generate` does). The cache
entries of a row's padding are rewritten before any query attends them.
"""

from keras import ops


def prepare_prompt(start_ids, prompt_lengths, max_length, pad_id):
    """`(batch,)` start ids or a `(batch, P)` prompt -> `(prompt (B, P), lengths (B,))` int32.

    Positions at or after a row's length are set to `pad_id`.

    >>> import numpy as np
    >>> prompt, lengths = prepare_prompt(np.array([[5, 6, 7], [8, 9, 1]]), np.array([3, 1]), 6, pad_id=0)
    >>> np.asarray(prompt).tolist(), np.asarray(lengths).tolist()
    ([[5, 6, 7], [8, 0, 0]], [3, 1])
    """
    prompt = ops.cast(start_ids, "int32")
    if len(prompt.shape) == 1:
        prompt = prompt[:, None]
    if len(prompt.shape) != 2 or not isinstance(prompt.shape[1], int):
        raise ValueError(
            "`start_ids` must be `(batch,)` start ids or a `(batch, prompt_length)` prompt with a "
            f"static length. Received: start_ids.shape={tuple(prompt.shape)}"
        )
    if not 1 <= prompt.shape[1] <= max_length:
        raise ValueError(
            "The prompt must hold between 1 and `max_length` tokens. Received: "
            f"prompt_length={prompt.shape[1]}, max_length={max_length}"
        )
    batch, length = ops.shape(prompt)[0], prompt.shape[1]
    if prompt_lengths is None:
        lengths = ops.full((batch,), length, "int32")
    else:
        lengths = ops.cast(prompt_lengths, "int32")
        if len(lengths.shape) != 1:
            raise ValueError(
                f"`prompt_lengths` must be `(batch,)`. Received: prompt_lengths.shape={tuple(lengths.shape)}"
            )
    in_prompt = ops.arange(length, dtype="int32")[None, :] < lengths[:, None]
    return ops.where(in_prompt, prompt, pad_id), lengths


def first_step(prefill_fn, prompt, lengths, cache):
    """`(first loop index, cache)`: index 0, or after a prefill `min(lengths) - 1`."""
    if prefill_fn is None:
        return ops.convert_to_tensor(0, "int32"), cache
    cache = prefill_fn(prompt, cache)
    return ops.maximum(ops.min(lengths) - 1, 0), cache


def forced_next(index, lengths):
    """`(batch,)`: whether position `index + 1` is still a prompt token (teacher-forced)."""
    return ops.less(index + 1, lengths)
