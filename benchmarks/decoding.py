"""Benchmark 4: greedy decoding throughput, 64 new tokens, batch 8.

Three decoder-only language models of the same size (width 256, 8 heads,
feed-forward 1024, 2 layers, vocabulary 2000, tied output embedding), each
starting from one token and generating 64 more, no end token:

- keras_attn cached: `keras_attn.generation.greedy_search` with
  `TransformerDecoder`'s key/value cache (one new position per step);
- keras_attn recompute: the same model and weights without a cache; every
  step re-runs the whole (fixed-size, causally masked) token buffer and reads
  the logits at the current position;
- keras_hub cached: `keras_hub.layers.TokenAndPositionEmbedding` and
  `keras_hub.layers.TransformerDecoder` layers driven by
  `keras_hub.samplers.GreedySampler` with their `self_attention_cache`, the way
  keras-hub's causal LMs generate.

Each generation is one `tf.function` (a while loop inside), without and with
XLA.
"""

import numpy as np

from common import LOG, modes, interleaved_median, rate_result

FULL = dict(batch=8, width=256, heads=8, intermediate=1024, layers=2, vocab=2000, new_tokens=64)
QUICK = dict(batch=2, width=32, heads=4, intermediate=64, layers=1, vocab=50, new_tokens=6)
CACHE_TARGET, HUB_TARGET = 5.0, 1.0


def _keras_attn_model(size, max_length):
    from keras_attn.layers import TokenAndPositionEmbedding, TransformerDecoder

    embedding = TokenAndPositionEmbedding(size["vocab"], max_length, size["width"], mask_zero=False)
    decoder = TransformerDecoder(size["layers"], size["heads"], size["intermediate"])
    embedding.build((None, max_length))
    decoder.build((None, max_length, size["width"]))
    return embedding, decoder


def _keras_hub_model(size, max_length):
    import keras_hub

    embedding = keras_hub.layers.TokenAndPositionEmbedding(size["vocab"], max_length, size["width"])
    layers = [
        keras_hub.layers.TransformerDecoder(
            size["intermediate"], size["heads"], activation="gelu", normalize_first=True,
            layer_norm_epsilon=1e-5,
        )
        for _ in range(size["layers"])
    ]
    embedding.build((None, max_length))
    for layer in layers:
        layer.build((None, max_length, size["width"]))
    norm = __import__("keras").layers.LayerNormalization(epsilon=1e-5)
    norm.build((None, max_length, size["width"]))
    return embedding, layers, norm


def generators(size, jit_compile):
    """`name -> callable(start_ids) -> tokens (B, 1 + new_tokens)`."""
    import tensorflow as tf
    from keras import ops

    import keras_hub
    from keras_attn.generation import greedy_search

    batch, max_length = size["batch"], size["new_tokens"] + 1
    embedding, decoder = _keras_attn_model(size, max_length)

    def cached_step(token_ids, cache, index):
        x = embedding(token_ids, start_index=index)  # (B, 1, C)
        x, cache, _ = decoder(x, self_attention_cache=cache, self_attention_cache_update_index=index)
        return embedding(x, reverse=True)[:, 0], cache  # (B, V)

    def recompute_step(token_ids, tokens, index):
        tokens = ops.slice_update(tokens, [0, index], token_ids)  # the prefix so far
        hidden = decoder(embedding(tokens), use_causal_mask=True)  # (B, L, C), every position again
        logits = embedding(ops.take(hidden, index, axis=1)[:, None], reverse=True)[:, 0]
        return logits, tokens

    @tf.function(jit_compile=jit_compile)
    def keras_attn_cached(start_ids):
        cache = decoder.initial_self_attention_cache(batch, max_length)
        return greedy_search(cached_step, start_ids, cache, max_length)

    @tf.function(jit_compile=jit_compile)
    def keras_attn_recompute(start_ids):
        tokens = ops.zeros((batch, max_length), "int32")
        return greedy_search(recompute_step, start_ids, tokens, max_length)

    hub_embedding, hub_layers, hub_norm = _keras_hub_model(size, max_length)
    head_dim = size["width"] // size["heads"]
    sampler = keras_hub.samplers.GreedySampler()

    def hub_next(prompt, cache, index):
        position = index - 1  # the newest token, whose keys/values are added now
        x = hub_embedding(ops.slice(prompt, [0, position], [batch, 1]), start_index=position)
        caches = []
        for i, layer in enumerate(hub_layers):
            x, layer_cache = layer(
                x, self_attention_cache=cache[:, i], self_attention_cache_update_index=position
            )
            caches.append(layer_cache)
        x = hub_norm(x)
        logits = hub_embedding.token_embedding(x, reverse=True)[:, 0]
        return logits, None, ops.stack(caches, axis=1)

    @tf.function(jit_compile=jit_compile)
    def keras_hub_cached(start_ids):
        prompt = ops.concatenate(
            [start_ids[:, None], ops.zeros((batch, max_length - 1), "int32")], axis=1
        )
        mask = ops.concatenate([ops.ones((batch, 1), "bool"), ops.zeros((batch, max_length - 1), "bool")], axis=1)
        cache = ops.zeros((batch, size["layers"], 2, max_length, size["heads"], head_dim))
        return sampler(hub_next, prompt, cache=cache, index=1, mask=mask)

    return {
        "keras_attn cached": keras_attn_cached,
        "keras_attn recompute": keras_attn_recompute,
        "keras_hub cached": keras_hub_cached,
    }


def run(quick=False, repeats=5):
    import keras
    import tensorflow as tf

    size = QUICK if quick else FULL
    start_ids = tf.constant(np.arange(1, size["batch"] + 1, dtype="int32"))
    new_tokens = size["batch"] * size["new_tokens"]
    results = []
    for mode, jit_compile in modes(quick):
        keras.utils.set_random_seed(0)
        fns = generators(size, jit_compile)
        for name, fn in fns.items():
            tokens = fn(start_ids)
            if tuple(tokens.shape) != (size["batch"], size["new_tokens"] + 1):
                raise RuntimeError(f"{name} returned {tuple(tokens.shape)}")
        calls = {name: (lambda fn: lambda: fn(start_ids).numpy())(fn) for name, fn in fns.items()}
        times = interleaved_median(calls, repeats, warmup=1)
        LOG.info("4: %s: %s", mode, times)
        rate = {name: new_tokens / seconds for name, seconds in times.items()}
        case = f"greedy decoding, {size['new_tokens']} new tokens, batch {size['batch']}"
        results.append(
            rate_result("4", case + ", cached vs recompute", mode, rate["keras_attn cached"],
                        rate["keras_attn recompute"], "keras_attn without cache (recompute)",
                        "tokens/s", CACHE_TARGET)
        )
        results.append(
            rate_result("4", case + ", vs keras-hub", mode, rate["keras_attn cached"],
                        rate["keras_hub cached"], "keras_hub TransformerDecoder + GreedySampler",
                        "tokens/s", HUB_TARGET)
        )
    return results
