"""Run by test_backends.py in a fresh process with KERAS_BACKEND=jax."""

import jax
import keras
import numpy as np

from keras_attn.generation import beam_search
from keras_attn.generation import greedy_search
from keras_attn.generation import sample
from keras_attn.layers import MultiHeadAttention
from keras_attn.layers import RelativePositionBias
from keras_attn.layers import TokenAndPositionEmbedding
from keras_attn.layers import TransformerDecoder
from keras_attn.layers import TransformerEncoder
from keras_attn.layers import TransformerEncoderBlock
from keras_attn.ops import BucketedBias
from keras_attn.ops import scaled_dot_product_attention

assert keras.backend.backend() == "jax", keras.backend.backend()
rng = np.random.default_rng(0)

# Chunked attention: gradients equal the dense path's, under jax.jit.
q = rng.normal(size=(2, 9, 2, 4)).astype("float32")


def loss(q, chunk_size):
    return (scaled_dot_product_attention(q, q, q, is_causal=True, chunk_size=chunk_size) ** 2).sum()


dense = jax.grad(loss)(q, None)
chunked = jax.jit(jax.grad(loss), static_argnums=1)(q, 4)
np.testing.assert_allclose(chunked, dense, atol=1e-5)


def dropout_loss(q):
    out = scaled_dot_product_attention(q, q, q, chunk_size=4, dropout_rate=0.3, training=True, seed=1)
    return (out**2).sum()


assert np.all(np.isfinite(jax.jit(jax.grad(dropout_loss))(q)))

# Dense causal attention in query blocks (hand-written gradient, closing over
# a traced mask and dropout scale) equals the automatically differentiated
# weights path, under jax.jit.
long_q = rng.normal(size=(1, 150, 2, 4)).astype("float32")
padding = np.arange(150)[None, None, None, :] < 140


def blocked_loss(q, mask, return_weights):
    out = scaled_dot_product_attention(
        q, q, q, mask=mask, is_causal=True, dropout_rate=0.2, training=True, seed=3, return_weights=return_weights
    )
    out = out[0] if return_weights else out
    return (out**2).sum()


fast = jax.jit(jax.grad(blocked_loss), static_argnums=2)(long_q, padding, False)
slow = jax.jit(jax.grad(blocked_loss), static_argnums=2)(long_q, padding, True)
assert np.all(np.isfinite(fast)) and fast.shape == slow.shape
no_dropout = jax.jit(jax.grad(lambda q, m: (scaled_dot_product_attention(q, q, q, mask=m, is_causal=True) ** 2).sum()))
reference = jax.grad(
    lambda q, m: (scaled_dot_product_attention(q, q, q, mask=m, is_causal=True, return_weights=True)[0] ** 2).sum()
)
np.testing.assert_allclose(no_dropout(long_q, padding), reference(long_q, padding), atol=1e-4)

# MultiHeadAttention equals Keras' with copied weights.
x = rng.normal(size=(2, 5, 8)).astype("float32")
theirs, ours = keras.layers.MultiHeadAttention(2, 4), MultiHeadAttention(2, 4)
theirs(x, x)
ours(x, x)
ours.set_weights(theirs.get_weights())
np.testing.assert_allclose(ours(x, x, use_causal_mask=True), theirs(x, x, use_causal_mask=True), atol=1e-5)

# Cached decoding equals one full pass.
decoder = TransformerDecoder(num_layers=2, num_heads=2, intermediate_dim=16)
full = decoder(x, x)
cache, cross = decoder.initial_self_attention_cache(2, 5), decoder.compute_cross_attention_cache(x)
steps = []
for index in range(5):
    out, cache, cross = decoder(
        x[:, index : index + 1], self_attention_cache=cache,
        self_attention_cache_update_index=index, cross_attention_cache=cross,
    )
    steps.append(out)
np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)

# A block trains under XLA.
inputs = keras.Input((5, 8))
model = keras.Model(inputs, TransformerEncoderBlock(2, 16)(inputs))
model.compile("adam", "mse", jit_compile=True)
history = model.fit(x, x, epochs=2, verbose=0)
assert np.all(np.isfinite(history.history["loss"]))

# Generation loops.
table = np.log(np.array([[0.1, 0.5, 0.4], [0.1, 0.1, 0.8], [0.9, 0.05, 0.05]], "float32"))


def step(ids, cache, index):
    return keras.ops.take(table, ids[:, 0], axis=0), cache


assert np.asarray(greedy_search(step, np.array([0]), (), 4)).tolist() == [[0, 1, 2, 0]]
assert np.asarray(beam_search(step, np.array([0]), (), 3, beam_width=2)[0]).tolist() == [[[0, 1, 2]]]

# A relative position bias (T5): chunked equals dense, the table's gradient too, under jax.jit.
table = rng.normal(size=(8, 2)).astype("float32")
bucket = RelativePositionBias(2, num_buckets=8, max_distance=12, bidirectional=False).bucket


def bias_loss(q, table, chunk_size):
    bias = BucketedBias(table, bucket)
    return (scaled_dot_product_attention(q, q, q, bias=bias, is_causal=True, chunk_size=chunk_size) ** 2).sum()


dense = jax.grad(bias_loss, argnums=(0, 1))(q, table, None)
chunked = jax.jit(jax.grad(bias_loss, argnums=(0, 1)), static_argnums=2)(q, table, 4)
for got, want in zip(chunked, dense):
    np.testing.assert_allclose(got, want, atol=1e-4)

# T5-style stacks: the position bias shared by the blocks; cached decoding of several
# steps at a time equals the full pass; a model with them trains under XLA.
t5 = dict(norm="rms_norm", use_bias=False, gated=True, activation="gelu_approximate", attention_scale=1.0)
decoder = TransformerDecoder(
    2, 2, 16, position_bias=RelativePositionBias(2, 8, 16, bidirectional=False), rotary_max_wavelength=100, **t5
)
full = decoder(x, x)
cache, cross = decoder.initial_self_attention_cache(2, 5), decoder.compute_cross_attention_cache(x)
steps = []
for start, stop in ((0, 3), (3, 5)):
    out, cache, cross = decoder(
        x[:, start:stop], self_attention_cache=cache, self_attention_cache_update_index=start,
        cross_attention_cache=cross,
    )
    steps.append(out)
np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)
inputs = keras.Input((5, 8))
encoded = TransformerEncoder(2, 2, 16, position_bias=RelativePositionBias(2, 8, 16), chunk_size=2, **t5)(inputs)
model = keras.Model(inputs, encoded)
model.compile("adam", "mse", jit_compile=True)
assert np.all(np.isfinite(model.fit(x, x, epochs=1, verbose=0).history["loss"]))

# Generation with prompts on a tiny decoder-only model: a one-pass prefill equals feeding
# the prompt token by token, for every search, under jax.jit.
embedding = TokenAndPositionEmbedding(11, 7, 8, mask_zero=False)
language_model = TransformerDecoder(2, 2, 16)
language_model(embedding(np.zeros((2, 7), "int32")))


def lm_step(ids, cache, index):
    hidden, cache, _ = language_model(
        embedding(ids, start_index=index), self_attention_cache=cache, self_attention_cache_update_index=index
    )
    return embedding(hidden, reverse=True)[:, 0], cache


def lm_prefill(prompt, cache):
    _, cache, _ = language_model(embedding(prompt), self_attention_cache=cache, self_attention_cache_update_index=0)
    return cache


prompt, lengths = np.array([[3, 4, 5], [6, 0, 0]], "int32"), np.array([3, 1], "int32")
searches = (
    greedy_search,
    lambda *args, **kwargs: sample(*args, seed=3, **kwargs),
    lambda *args, **kwargs: beam_search(*args, beam_width=2, **kwargs)[0],
)
for search in searches:

    @jax.jit
    def generate(prompt, lengths, search=search):
        common = dict(max_length=7, prompt_lengths=lengths)
        cache = language_model.initial_self_attention_cache(2, 7)
        return search(lm_step, prompt, cache, **common), search(lm_step, prompt, cache, prefill_fn=lm_prefill, **common)

    stepped, prefilled = generate(prompt, lengths)
    np.testing.assert_array_equal(np.asarray(prefilled), np.asarray(stepped))
    assert np.asarray(prefilled)[..., :3].reshape(-1, 3)[0].tolist() == [3, 4, 5]
print("jax backend: ok")
