"""Beam search with the length penalty of Wu et al. (2016)."""

import keras
from keras import ops

from keras_attn.generation.prompt import first_step
from keras_attn.generation.prompt import forced_next
from keras_attn.generation.prompt import prepare_prompt

_NEG_INF = -1e9


def length_penalty(length, alpha):
    """`((5 + length) / 6) ** alpha` (GNMT); `alpha=0` means no penalty."""
    return ops.power((5.0 + ops.cast(length, "float32")) / 6.0, alpha)


def _merge_beams(x):
    """`(batch, beam, ...)` -> `(batch * beam, ...)`."""
    shape = ops.shape(x)
    return ops.reshape(x, (shape[0] * shape[1],) + tuple(x.shape[2:]))


def _split_beams(x, beam_width):
    shape = ops.shape(x)
    return ops.reshape(x, (shape[0] // beam_width, beam_width) + tuple(x.shape[1:]))


def _gather_beams(x, beam_indices):
    """Pick `beam_indices (batch, beam)` from `x (batch, beam, ...)`."""
    index = beam_indices
    for _ in range(len(x.shape) - 2):
        index = ops.expand_dims(index, -1)
    return ops.take_along_axis(x, ops.broadcast_to(index, ops.shape(beam_indices) + tuple(ops.shape(x)[2:])), axis=1)


def beam_search(
    step_fn,
    start_ids,
    cache,
    max_length,
    end_id=None,
    pad_id=0,
    beam_width=4,
    length_penalty_alpha=0.6,
    num_return_sequences=1,
    prompt_lengths=None,
    prefill_fn=None,
):
    """Beam search decoding.

    Keeps the `beam_width` best partial sequences by total log-probability;
    a beam that emitted `end_id` is finished and keeps its score. The final
    n-best list is ranked by `log_prob / length_penalty(length, alpha)`, with
    `length` counting generated tokens up to and including `end_id`. Prompt
    tokens are forced on every beam and add nothing to scores or lengths.

    Args:
        step_fn: `(token_ids (B, 1), cache, index) -> (logits (B, V), cache)`;
            it is called with `batch * beam_width` rows.
        start_ids: `(batch,)` first token, or a prompt `(batch,
            prompt_length)` right-padded with `pad_id`.
        cache: decoder state for `batch` rows (batch on axis 0); it is
            repeated for every beam here (after `prefill_fn`).
        max_length: output length, prompt included.
        end_id: end token, or `None`.
        beam_width: beams kept per example.
        length_penalty_alpha: GNMT's alpha (0.6 in "Attention Is All You Need").
        num_return_sequences: size of the n-best list, at most `beam_width`.
        prompt_lengths, prefill_fn: as in `greedy_search`; `prefill_fn` runs
            on the `batch` rows, before the cache is repeated for the beams.

    Returns:
        `(tokens, scores)`: `(batch, n, max_length)` int32 and `(batch, n)`
        length-normalised log-probabilities, best first.

    Example:

    >>> import numpy as np
    >>> from keras import ops
    >>> table = np.log(np.array([[.1, .5, .4], [.1, .1, .8], [.9, .05, .05]], "float32"))
    >>> step = lambda ids, cache, index: (ops.take(table, ids[:, 0], axis=0), cache)
    >>> tokens, scores = beam_search(step, np.array([0]), (), max_length=3, beam_width=2)
    >>> np.asarray(tokens)[0, 0].tolist()  # p(0,1,2) = .40 beats p(0,2,0) = .36
    [0, 1, 2]
    """
    if beam_width < 1:
        raise ValueError(f"`beam_width` must be >= 1. Received: beam_width={beam_width}")
    if not 1 <= num_return_sequences <= beam_width:
        raise ValueError(
            "`num_return_sequences` must be between 1 and `beam_width`. Received: "
            f"num_return_sequences={num_return_sequences}, beam_width={beam_width}"
        )
    prompt, prompt_lengths = prepare_prompt(start_ids, prompt_lengths, max_length, pad_id)
    batch = ops.shape(prompt)[0]
    tokens = ops.full((batch, beam_width, max_length), pad_id, "int32")
    tokens = ops.slice_update(tokens, [0, 0, 0], ops.repeat(prompt[:, None, :], beam_width, axis=1))
    first_index, cache = first_step(prefill_fn, prompt, prompt_lengths, cache)
    # Only the first beam is alive at the start, so the beams do not repeat.
    log_probs = ops.tile(
        ops.convert_to_tensor([[0.0] + [_NEG_INF] * (beam_width - 1)], "float32"), (batch, 1)
    )
    finished = ops.zeros((batch, beam_width), "bool")
    lengths = ops.zeros((batch, beam_width), "int32")
    cache = keras.tree.map_structure(lambda x: ops.repeat(x, beam_width, axis=0), cache)

    def cond(index, tokens, log_probs, finished, lengths, cache):
        return ops.logical_and(index < max_length - 1, ops.logical_not(ops.all(finished)))

    def body(index, tokens, log_probs, finished, lengths, cache):
        current = _merge_beams(ops.slice(tokens, [0, 0, index], [batch, beam_width, 1]))
        logits, cache = step_fn(current, cache, index)
        step_log_probs = _split_beams(ops.log_softmax(ops.cast(logits, "float32"), axis=-1), beam_width)
        vocabulary = step_log_probs.shape[-1]
        # A finished beam continues only with `pad_id`, at no cost.
        pad_only = ops.where(ops.arange(vocabulary) == pad_id, 0.0, _NEG_INF)
        step_log_probs = ops.where(finished[..., None], pad_only[None, None], step_log_probs)
        candidates = ops.reshape(log_probs[..., None] + step_log_probs, (batch, beam_width * vocabulary))
        new_log_probs, flat = ops.top_k(candidates, k=beam_width)
        beam_indices = ops.cast(flat // vocabulary, "int32")
        chosen = ops.cast(flat % vocabulary, "int32")
        # Rows still inside their prompt keep their beams, scores and the prompt token.
        forced = forced_next(index, prompt_lengths)[:, None]  # (B, 1)
        same_beams = ops.broadcast_to(ops.arange(beam_width, dtype="int32")[None, :], (batch, beam_width))
        beam_indices = ops.where(forced, same_beams, beam_indices)
        chosen = ops.where(forced, ops.slice(tokens, [0, 0, index + 1], [batch, beam_width, 1])[..., 0], chosen)
        log_probs = ops.where(forced, log_probs, new_log_probs)

        tokens = _gather_beams(tokens, beam_indices)
        tokens = ops.slice_update(tokens, [0, 0, index + 1], chosen[..., None])
        was_finished = _gather_beams(finished, beam_indices)
        generated = ops.logical_not(ops.logical_or(was_finished, forced))
        lengths = _gather_beams(lengths, beam_indices) + ops.cast(generated, "int32")
        finished = was_finished
        if end_id is not None:
            finished = ops.logical_or(finished, ops.logical_and(generated, ops.equal(chosen, end_id)))
        flat_indices = _merge_beams(beam_indices + ops.arange(batch, dtype="int32")[:, None] * beam_width)
        cache = keras.tree.map_structure(lambda x: ops.take(x, flat_indices, axis=0), cache)
        return index + 1, tokens, log_probs, finished, lengths, cache

    loop_vars = (first_index, tokens, log_probs, finished, lengths, cache)
    _, tokens, log_probs, _, lengths, _ = ops.while_loop(cond, body, loop_vars)

    scores = log_probs / length_penalty(ops.maximum(lengths, 1), length_penalty_alpha)
    scores, order = ops.top_k(scores, k=num_return_sequences)
    return _gather_beams(tokens, ops.cast(order, "int32")), scores
