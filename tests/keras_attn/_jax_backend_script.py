"""Run by test_backends.py in a fresh process with KERAS_BACKEND=jax."""

import jax
import keras
import numpy as np

from keras_attn.generation import beam_search
from keras_attn.generation import greedy_search
from keras_attn.layers import MultiHeadAttention
from keras_attn.layers import TransformerDecoder
from keras_attn.layers import TransformerEncoderBlock
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
print("jax backend: ok")
