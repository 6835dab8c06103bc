"""A tiny real decoder (keras_attn embedding + TransformerDecoder) for the search tests.

`TinyDecoder.step_fn` decodes with the key/value caches (encoder outputs
projected once); `full_step_fn` recomputes the whole prefix every step, with no
cache, as the reference.
"""

import keras
import numpy as np
import pytest
from keras import ops

from keras_attn import masking
from keras_attn.layers import TokenAndPositionEmbedding, TransformerDecoder

VOCABULARY, WIDTH, MAX_LENGTH, SOURCE_LENGTH, BATCH = 11, 16, 7, 5, 3
START_ID, END_ID = 1, 2


class TinyDecoder:
    def __init__(self, seed=0):
        keras.utils.set_random_seed(seed)
        self.embedding = TokenAndPositionEmbedding(
            VOCABULARY, MAX_LENGTH, WIDTH, tie_weights=False, embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0)
        )
        self.decoder = TransformerDecoder(num_layers=2, num_heads=2, intermediate_dim=32)
        rng = np.random.default_rng(seed)
        self.source = rng.normal(size=(BATCH, SOURCE_LENGTH, WIDTH)).astype("float32")
        self.source_mask = np.ones((BATCH, SOURCE_LENGTH), bool)
        self.source_mask[1, 3:] = False  # one padded source
        self.decoder(self.embedding(np.zeros((BATCH, MAX_LENGTH), "int32")), self.source)
        self.start_ids = np.full((BATCH,), START_ID, "int32")

    def logits(self, hidden):
        return self.embedding(hidden, reverse=True)

    # Cached: one new token per step.
    def cache(self):
        return (
            self.decoder.initial_self_attention_cache(BATCH, MAX_LENGTH),
            self.decoder.compute_cross_attention_cache(self.source),
            ops.convert_to_tensor(self.source_mask),
        )

    def step_fn(self, token_ids, cache, index):
        self_cache, cross_cache, source_mask = cache
        x = masking.without_implicit_mask(self.embedding(token_ids, start_index=index))
        x, self_cache, cross_cache = self.decoder(
            x, encoder_padding_mask=source_mask, self_attention_cache=self_cache,
            self_attention_cache_update_index=index, cross_attention_cache=cross_cache,
        )
        return self.logits(x)[:, 0], (self_cache, cross_cache, source_mask)

    # Uncached reference: the whole prefix again at every step.
    def full_cache(self):
        return (
            ops.zeros((BATCH, MAX_LENGTH), "int32"),
            ops.convert_to_tensor(self.source),
            ops.convert_to_tensor(self.source_mask),
        )

    def full_step_fn(self, token_ids, cache, index):
        prefix, source, source_mask = cache
        prefix = ops.slice_update(prefix, [0, index], ops.cast(token_ids, "int32"))
        x = masking.without_implicit_mask(self.embedding(prefix))
        x = self.decoder(x, source, encoder_padding_mask=source_mask)  # causal, no cache
        logits = ops.take(self.logits(x), index, axis=1)  # (B, V) at position `index`
        return logits, (prefix, source, source_mask)


@pytest.fixture(scope="module")
def tiny_decoder():
    return TinyDecoder()
