"""Autoregressive generation for any decoder: greedy, beam search, sampling.

Every search takes a `step_fn(token_ids, cache, index) -> (logits, cache)`:
`token_ids` is `(batch, 1)` int32 (the token at position `index`), `cache` any
nest of tensors with the batch on axis 0 (e.g. the decoder's key/value
caches and the encoder's cross-attention caches computed once), and `logits`
`(batch, vocabulary)` for the token at `index + 1`. Shapes are static and the
loops are `keras.ops` while-loops, so a search compiles with
`jit_compile=True`; wrap it once in a compiled function and reuse it for calls
of the same shape.

Every search starts from `(batch,)` start ids or a `(batch, prompt_length)`
prompt right-padded with `pad_id` (`prompt_lengths` per row), optionally
prefilled in one pass by a `prefill_fn(prompt_ids, cache) -> cache`
(`keras_attn/generation/prompt.py`). `sample_from_logits` is sampling's choice
of one token, for callers that run their own loop (e.g. streaming one compiled
step at a time) and want `sample`'s tokens.
"""

from keras_attn.generation.beam_search import beam_search
from keras_attn.generation.greedy_search import greedy_search
from keras_attn.generation.sampling import sample
from keras_attn.generation.sampling import sample_from_logits
