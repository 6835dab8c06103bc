"""Run by test_distribution.py in a fresh process: KERAS_BACKEND=jax, 8 virtual
CPU devices (XLA_FLAGS=--xla_force_host_platform_device_count=8).

A small encoder-decoder and a decoder-only model train a few steps on one
device, data-parallel over 8, and model-parallel over a (2 batch, 4 model)
mesh with keras_attn.distribution.layout_map; the losses agree and the
variables the layout map names really are split across the model axis.
"""

import keras
import numpy as np

from keras_attn.distribution import layout_map
from keras_attn.layers import TokenAndPositionEmbedding, TransformerDecoder, TransformerEncoder

assert keras.backend.backend() == "jax", keras.backend.backend()
DEVICES = keras.distribution.list_devices()
assert len(DEVICES) == 8, DEVICES
VOCABULARY, LENGTH, WIDTH, HEADS, INTERMEDIATE, BATCH, STEPS = 48, 8, 32, 4, 64, 8, 3


def stack(cls):
    return cls(num_layers=1, num_heads=HEADS, intermediate_dim=INTERMEDIATE)


def encoder_decoder():
    source = keras.Input((LENGTH,), dtype="int32")
    target = keras.Input((LENGTH,), dtype="int32")
    encoded = stack(TransformerEncoder)(TokenAndPositionEmbedding(VOCABULARY, LENGTH, WIDTH, mask_zero=True)(source))
    decoded = stack(TransformerDecoder)(TokenAndPositionEmbedding(VOCABULARY, LENGTH, WIDTH)(target), encoded)
    return keras.Model([source, target], keras.layers.Dense(VOCABULARY)(decoded))


def decoder_only():
    tokens = keras.Input((LENGTH,), dtype="int32")
    embedding = TokenAndPositionEmbedding(VOCABULARY, LENGTH, WIDTH, tie_weights=False)
    decoded = stack(TransformerDecoder)(embedding(tokens))
    return keras.Model(tokens, embedding(decoded, reverse=True))


def data(rng, two_inputs):
    source = rng.integers(1, VOCABULARY, (STEPS * BATCH, LENGTH)).astype("int32")
    source[::3, 5:] = 0  # padding, masked in the encoder
    target = rng.integers(1, VOCABULARY, (STEPS * BATCH, LENGTH)).astype("int32")
    return ([source, target] if two_inputs else target), np.roll(target, -1, axis=1)


def train(model, inputs, labels):
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    losses = []
    for step in range(STEPS):
        rows = slice(step * BATCH, (step + 1) * BATCH)
        x = [part[rows] for part in inputs] if isinstance(inputs, list) else inputs[rows]
        losses.append(float(model.train_on_batch(x, labels[rows])))
    return losses


# What the layout map splits (every other variable is replicated).
SHARDED = tuple(
    f"{layer}/{weight}" for layer in ("query", "key", "value", "intermediate_dense") for weight in ("kernel", "bias")
) + ("attention_output/kernel", "feed_forward/output_dense/kernel", "_embedding/embeddings", "reverse_embeddings")


def sharded_on_model_axis(variable, model_size):
    """The shard each device holds is 1/model_size of the variable."""
    shard = variable.value.sharding.shard_shape(tuple(variable.shape))
    return int(np.prod(variable.shape)) == model_size * int(np.prod(shard))


rng = np.random.default_rng(0)
mesh = keras.distribution.DeviceMesh((2, 4), ("batch", "model"), DEVICES)
settings = {
    "data-parallel": keras.distribution.DataParallel(devices=DEVICES),
    "model-parallel": keras.distribution.ModelParallel(layout_map=layout_map(mesh), batch_dim_name="batch"),
}
for build, two_inputs in ((encoder_decoder, True), (decoder_only, False)):
    inputs, labels = data(rng, two_inputs)
    keras.utils.set_random_seed(0)
    reference = build()
    weights = reference.get_weights()
    single = train(reference, inputs, labels)
    for name, distribution in settings.items():
        with distribution.scope():
            model = build()
            model.set_weights(weights)
            losses = train(model, inputs, labels)
        np.testing.assert_allclose(losses, single, rtol=1e-4, err_msg=f"{build.__name__} {name}")
        sharded = {v.path for v in model.trainable_variables if sharded_on_model_axis(v, 4)}
        if name == "data-parallel":
            assert not sharded, sharded
            continue
        expected = {v.path for v in model.trainable_variables if v.path.endswith(SHARDED)}
        assert sharded == expected, sorted(sharded ^ expected)
        assert len(expected) >= 13, sorted(expected)  # 7 per attention layer, 3 per feed-forward, the tables
    print(f"{build.__name__}: single {np.round(single, 4).tolist()}")
print("jax distribution: ok")
