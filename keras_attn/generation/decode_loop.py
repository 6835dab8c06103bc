"""The token-by-token loop shared by greedy search and sampling."""

from keras import ops

from keras_attn.generation.prompt import first_step
from keras_attn.generation.prompt import forced_next
from keras_attn.generation.prompt import prepare_prompt


def decode_loop(
    step_fn, choose_fn, start_ids, cache, max_length, end_id, pad_id=0, prompt_lengths=None, prefill_fn=None
):
    """Fill `(batch, max_length)` token ids, one chosen token per step.

    The output begins with the prompt (`start_ids`). A sequence that emitted
    `end_id` after its prompt gets `pad_id` afterwards; the loop stops early
    when every sequence has ended.

    Args:
        step_fn: `(token_ids (B, 1), cache, index) -> (logits (B, V), cache)`.
        choose_fn: `(logits (B, V) float32, index) -> (B,)` int32 token ids.
        start_ids: `(batch,)` int32, or a `(batch, prompt_length)` prompt
            right-padded with `pad_id` (see `keras_attn.generation.prompt`).
        cache: the decoder state, threaded through `step_fn`.
        max_length: total length, prompt included.
        end_id: the end token, or `None` to always run `max_length` steps.
        prompt_lengths: `(batch,)` real prompt tokens; default: all.
        prefill_fn: `(prompt_ids (B, P), cache) -> cache`, filling the cache
            for the whole prompt in one pass; default: the loop feeds the
            prompt one token at a time.
    """
    prompt, prompt_lengths = prepare_prompt(start_ids, prompt_lengths, max_length, pad_id)
    batch = ops.shape(prompt)[0]
    tokens = ops.full((batch, max_length), pad_id, "int32")
    tokens = ops.slice_update(tokens, [0, 0], prompt)
    finished = ops.zeros((batch,), "bool")
    index, cache = first_step(prefill_fn, prompt, prompt_lengths, cache)

    def cond(index, tokens, finished, cache):
        return ops.logical_and(index < max_length - 1, ops.logical_not(ops.all(finished)))

    def body(index, tokens, finished, cache):
        current = ops.slice(tokens, [0, index], [batch, 1])
        logits, cache = step_fn(current, cache, index)
        chosen = ops.cast(choose_fn(ops.cast(logits, "float32"), index), "int32")
        chosen = ops.where(finished, pad_id, chosen)
        # Rows still inside their prompt keep the prompt token.
        forced = forced_next(index, prompt_lengths)
        chosen = ops.where(forced, ops.slice(tokens, [0, index + 1], [batch, 1])[:, 0], chosen)
        tokens = ops.slice_update(tokens, [0, index + 1], chosen[:, None])
        if end_id is not None:
            finished = ops.logical_or(finished, ops.logical_and(ops.logical_not(forced), ops.equal(chosen, end_id)))
        return index + 1, tokens, finished, cache

    _, tokens, _, _ = ops.while_loop(cond, body, (index, tokens, finished, cache))
    return tokens
