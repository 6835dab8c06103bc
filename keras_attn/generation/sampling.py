"""Random sampling with temperature, top-k and top-p (nucleus) filtering."""

import random

import keras
from keras import ops

from keras_attn.generation.decode_loop import decode_loop


def filter_logits(logits, temperature=1.0, top_k=None, top_p=None):
    """Scale by `1 / temperature`, keep the `top_k` best and the smallest set
    whose probability reaches `top_p`; the rest become -inf.

    >>> import numpy as np
    >>> logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]], "float32"))
    >>> kept = np.isfinite(np.asarray(filter_logits(logits, top_p=0.7)))
    >>> kept.tolist()
    [[True, True, False, False]]
    """
    if temperature <= 0:
        raise ValueError(f"`temperature` must be > 0. Received: temperature={temperature}")
    logits = ops.cast(logits, "float32") / temperature
    if top_k is not None:
        if top_k < 1:
            raise ValueError(f"`top_k` must be >= 1. Received: top_k={top_k}")
        threshold = ops.top_k(logits, k=top_k)[0][:, -1:]
        logits = ops.where(logits < threshold, -float("inf"), logits)
    if top_p is not None:
        if not 0.0 < top_p <= 1.0:
            raise ValueError(f"`top_p` must be in (0, 1]. Received: top_p={top_p}")
        sorted_logits = ops.flip(ops.sort(logits, axis=-1), axis=-1)
        sorted_probs = ops.softmax(sorted_logits, axis=-1)
        # A token stays when the probability before it is below top_p.
        before = ops.cumsum(sorted_probs, axis=-1) - sorted_probs
        kept = ops.where(before < top_p, sorted_logits, float("inf"))
        threshold = ops.min(kept, axis=-1, keepdims=True)
        logits = ops.where(logits < threshold, -float("inf"), logits)
    return logits


def sample_from_logits(logits, uniform, temperature=1.0, top_k=None, top_p=None):
    """`(batch,)` int32 tokens drawn from filtered `(batch, vocabulary)` logits (see `filter_logits`).

    Each row inverts its cumulative distribution at `uniform` (`(batch,)`, in `[0, 1)`): the
    first token whose cumulative probability reaches it (rounding in the sum can leave none:
    then the most probable one). `sample` draws every token this way; a caller that runs its
    own loop (e.g. one compiled step at a time, to stream) gets the same tokens from the same
    uniform numbers.

    >>> import numpy as np
    >>> logits = np.log(np.array([[0.5, 0.3, 0.2]], "float32"))
    >>> [int(sample_from_logits(logits, np.array([u], "float32"))[0]) for u in (0.1, 0.6, 0.9)]
    [0, 1, 2]
    """
    filtered = filter_logits(logits, temperature, top_k, top_p)
    probs = ops.softmax(filtered, axis=-1)  # filtered-out tokens get exactly 0
    cumulative = ops.cumsum(probs, axis=-1)  # (B, V)
    u = ops.cast(uniform, "float32")[:, None] * cumulative[:, -1:]
    reached = ops.logical_and(cumulative >= u, probs > 0)
    first = ops.argmax(ops.cast(reached, "int32"), axis=-1)
    return ops.cast(ops.where(ops.any(reached, axis=-1), first, ops.argmax(probs, axis=-1)), "int32")


def sample(
    step_fn, start_ids, cache, max_length, end_id=None, pad_id=0,
    temperature=1.0, top_k=None, top_p=None, seed=None, prompt_lengths=None, prefill_fn=None,
):
    """Sample each token from the filtered distribution (see `filter_logits`).

    Arguments as in `greedy_search` (prompts, `prompt_lengths`, `prefill_fn`
    included), plus `temperature`, `top_k`, `top_p` and `seed`. Returns
    `(batch, max_length)` int32 token ids, beginning with the prompt.

    Each token is drawn by inverting the cumulative distribution with one
    uniform number per row and step (`sample_from_logits`). With a `keras.random.SeedGenerator`
    the numbers are drawn step by step from it (create it outside a compiled
    function: each call then gives new samples). With an int seed (or
    `None`: a random one) all numbers are drawn up front from that seed
    without creating any variable, so the call also works inside
    `tf.function(jit_compile=True)`, where the seed is fixed when traced.

    Example:

    >>> import numpy as np
    >>> from keras import ops
    >>> table = np.eye(4, k=1, dtype="float32") * 50  # nearly certain t -> t + 1
    >>> step = lambda ids, cache, index: (ops.take(table, ids[:, 0], axis=0), cache)
    >>> np.asarray(sample(step, np.array([0]), (), max_length=4, top_k=1, seed=1)).tolist()
    [[0, 1, 2, 3]]
    """
    batch = ops.shape(start_ids)[0]
    if isinstance(seed, keras.random.SeedGenerator):
        uniform_at = lambda index: keras.random.uniform((batch,), seed=seed)  # noqa: E731
    else:
        # A SeedGenerator made here would create a variable, which fails in a
        # retraced tf.function: draw every step's numbers now, statelessly.
        seed = random.randrange(2**31) if seed is None else seed
        table = keras.random.uniform((max_length, batch), seed=seed)
        uniform_at = lambda index: ops.take(table, index, axis=0)  # noqa: E731

    def choose(logits, index):
        return sample_from_logits(logits, uniform_at(index), temperature, top_k, top_p)

    return decode_loop(step_fn, choose, start_ids, cache, max_length, end_id, pad_id, prompt_lengths, prefill_fn)
