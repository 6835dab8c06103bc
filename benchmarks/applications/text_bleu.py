"""Text: held-out BLEU after a fixed CPU time budget, ours vs a keras-hub twin.

Data: `data/text/bible_en_es_short.tsv.gz` (English -> Spanish, 5% held out
for nothing: the applications' split with `validation_fraction=0.05` is kept
so the training pairs equal `keras-attn text train`'s), scored on the 300
held-out verses of `data/text/bible_en_es_test.tsv` with sacrebleu corpus BLEU.

Both contenders share, from `applications/text`: the SentencePiece vocabulary
(trained once), `make_dataset` (same batches, same seed), the optimizer and
schedule of `compile_translator_model` (Adam 0.9/0.98/1e-9, the warm-up /
inverse-square-root `TransformerSchedule`, fixed `WARMUP_STEPS` since the
number of steps is not known in advance), the padding-masked label-smoothed
loss, and the text demo's size (2+2 layers, width 64, 4 heads, feed-forward
128, dropout 0.1, pre-norm with a final layer norm, one embedding table shared
by encoder, decoder and the tied output projection).

- ours: `applications.text.translation.model.build_translator_model` (keras_attn blocks),
  decoded by `applications.text.translation.translator.Translator` (greedy search over the
  key/value caches).
- keras-hub twin: `keras_hub.layers.TokenAndPositionEmbedding` (tied,
  `mask_zero=True`), `keras_hub.layers.TransformerEncoder` /
  `TransformerDecoder` (`normalize_first=True`, gelu, epsilon 1e-5) and a final
  `LayerNormalization` after each stack. Decoded with the SAME
  `keras_attn.generation.greedy_search` (one `tf.function(jit_compile=True)`),
  its step function driving keras-hub's own cached decoder call: the
  self-attention cache of `TransformerDecoder` (updated at each step) and a
  cross-attention cache computed once from the encoder output, so neither
  contender recomputes the prefix.

Each library's default initializers are kept (keras-hub's token table is
uniform(-0.05, 0.05), ours is keras' default), as a user of either would get.
"""

import logging
import math
import os
import tempfile

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from budget import fit_for_budget

LOG = logging.getLogger("keras_attn.bench.applications")

FULL = dict(num_layers=2, hidden_dim=64, num_heads=4, intermediate_dim=128, batch_size=32, max_length=32,
            vocabulary_size=1000, dropout_rate=0.1, label_smoothing=0.1, warmup_steps=200, test_pairs=None,
            decode_batch=100, xla=True)
QUICK = dict(num_layers=1, hidden_dim=16, num_heads=2, intermediate_dim=32, batch_size=16, max_length=32,
             vocabulary_size=200, dropout_rate=0.1, label_smoothing=0.1, warmup_steps=10, test_pairs=20,
             decode_batch=20, train_pairs=400, xla=False)  # quick: no XLA compile


def _keras_hub_translator(config):
    """The keras-hub twin of `build_translator_model(config)`: same inputs, outputs and sizes."""
    import keras_hub

    encoder_ids = keras.Input((None,), dtype="int32", name="encoder_token_ids")
    decoder_ids = keras.Input((None,), dtype="int32", name="decoder_token_ids")
    embedding = keras_hub.layers.TokenAndPositionEmbedding(
        config.vocabulary_size, config.max_length, config.hidden_dim, tie_weights=True, mask_zero=True,
        name="embedding",
    )
    layer_args = dict(intermediate_dim=config.intermediate_dim, num_heads=config.num_heads,
                      dropout=config.dropout_rate, activation="gelu", layer_norm_epsilon=1e-5,
                      normalize_first=config.norm_first)
    x = keras.layers.Dropout(config.dropout_rate, name="encoder_embedding_dropout")(embedding(encoder_ids))
    for index in range(config.num_layers):
        x = keras_hub.layers.TransformerEncoder(**layer_args, name=f"encoder_{index}")(x)
    encoded = keras.layers.LayerNormalization(epsilon=1e-5, name="encoder_norm")(x)
    y = keras.layers.Dropout(config.dropout_rate, name="decoder_embedding_dropout")(embedding(decoder_ids))
    for index in range(config.num_layers):
        y = keras_hub.layers.TransformerDecoder(**layer_args, name=f"decoder_{index}")(y, encoded)
    decoded = keras.layers.LayerNormalization(epsilon=1e-5, name="decoder_norm")(y)
    logits = embedding.token_embedding(decoded, reverse=True)
    return keras.Model({"encoder_token_ids": encoder_ids, "decoder_token_ids": decoder_ids}, logits,
                       name="keras_hub_translator")


class KerasHubGreedyTranslator:
    """Greedy translation with the twin: `keras_attn.generation.greedy_search` over
    keras-hub's cached `TransformerDecoder` call, compiled once with XLA."""

    def __init__(self, model, tokenizer, config):
        from applications.text.tokenizer import END_ID, PAD_ID, START_ID

        self.model, self.tokenizer, self.config = model, tokenizer, config
        self.ids = (START_ID, END_ID, PAD_ID)
        self.embedding = model.get_layer("embedding")
        self.encoders = [model.get_layer(f"encoder_{i}") for i in range(config.num_layers)]
        self.decoders = [model.get_layer(f"decoder_{i}") for i in range(config.num_layers)]
        self.encoder_norm, self.decoder_norm = model.get_layer("encoder_norm"), model.get_layer("decoder_norm")
        self._generate = tf.function(self.generate_ids, jit_compile=True, reduce_retracing=False)

    def _encode(self, source_ids):
        padding_mask = ops.not_equal(source_ids, self.ids[2])
        x = self.embedding(source_ids)
        for layer in self.encoders:
            x = layer(x, padding_mask=padding_mask)
        return self.encoder_norm(x), padding_mask

    def _step(self, token_ids, cache, index):
        self_caches, cross_caches, encoded, source_mask = cache
        x = self.embedding(token_ids, start_index=index)  # (B, 1, C)
        new_self = []
        for i, layer in enumerate(self.decoders):
            x, self_cache, _ = layer(
                x, encoded, encoder_padding_mask=source_mask,
                self_attention_cache=self_caches[:, i], self_attention_cache_update_index=index,
                cross_attention_cache=cross_caches[:, i], cross_attention_cache_update_index=None,
            )
            new_self.append(self_cache)
        logits = self.embedding.token_embedding(self.decoder_norm(x), reverse=True)[:, 0]
        return logits, (ops.stack(new_self, axis=1), cross_caches, encoded, source_mask)

    def generate_ids(self, source_ids):
        from keras_attn import generation

        start_id, end_id, pad_id = self.ids
        encoded, source_mask = self._encode(source_ids)
        batch, length = ops.shape(source_ids)[0], self.config.max_length
        heads = self.config.num_heads
        head_dim = self.config.hidden_dim // heads
        cross = []
        for layer in self.decoders:
            attention = layer._cross_attention_layer
            key = attention._key_dense(encoded)  # (B, S, heads, head_dim)
            value = attention._value_dense(encoded)
            cross.append(ops.stack([key, value], axis=1))  # (B, 2, S, heads, head_dim)
        self_caches = ops.zeros((batch, len(self.decoders), 2, length, heads, head_dim), encoded.dtype)
        cache = (self_caches, ops.stack(cross, axis=1), encoded, source_mask)
        start_ids = ops.full((batch,), start_id, "int32")
        return generation.greedy_search(self._step, start_ids, cache, max_length=length, end_id=end_id,
                                        pad_id=pad_id)

    def translate(self, sentences, batch_size=64):
        from applications.text.translation.data import encode_source

        results = []
        for start in range(0, len(sentences), batch_size):
            chunk = list(sentences[start : start + batch_size])
            padded = chunk + [""] * (batch_size - len(chunk)) if len(sentences) > batch_size else chunk
            ids = encode_source(self.tokenizer, tf.constant(padded), self.config.max_length)
            tokens = self._generate(ids)
            texts = self.tokenizer.detokenize(tokens).numpy()[: len(chunk)]
            results.extend(text.decode("utf-8") for text in texts)
        return results


def run(budget_seconds, quick=False):
    """Train both contenders for `budget_seconds` each; returns the result rows."""
    from applications import datasets
    from applications.skeleton.optimization import build_optimizer
    from applications.skeleton.settings import resolve_settings
    from applications.skeleton.task import TaskData
    from applications.text.tokenizer import SubwordTokenizer
    from applications.text.translation.data import filter_by_length, make_dataset, read_pairs, split_pairs
    from applications.text.translation.evaluate import score_translations
    from applications.text.translation.model import build_translator_model
    from applications.text.translation.sizes import model_config
    from applications.text.translation.task import TranslationTask
    from applications.text.translation.translator import Translator

    size = QUICK if quick else FULL
    paths = datasets.bible_en_es_paths()
    pairs = read_pairs(str(paths["short"]))
    if size.get("train_pairs"):
        pairs = pairs[: size["train_pairs"]]
    test_pairs = read_pairs(str(paths["test"]))[: size["test_pairs"]]
    train_pairs, _, _ = split_pairs(pairs, 0.05, 0.0, seed=0)  # the split of `keras-attn text train`
    keras.utils.set_random_seed(0)
    tokenizer = SubwordTokenizer.train([s for pair in train_pairs for s in pair], size["vocabulary_size"])
    train_pairs = filter_by_length(train_pairs, tokenizer, size["max_length"])
    steps_per_epoch = len(train_pairs) // size["batch_size"]
    config = model_config(
        "tiny", vocabulary_size=tokenizer.vocabulary_size, max_length=size["max_length"],
        num_layers=size["num_layers"], hidden_dim=size["hidden_dim"], num_heads=size["num_heads"],
        intermediate_dim=size["intermediate_dim"], dropout_rate=size["dropout_rate"], norm_first=True,
        share_embeddings=True, tie_weights=True,
    )
    # The optimizer, loss and metric of `keras-attn text train` (its recipe), for both contenders.
    task = TranslationTask()
    settings = resolve_settings(task, data="-", out="-", label_smoothing=size["label_smoothing"],
                                warmup_steps=size["warmup_steps"], hidden_dim=size["hidden_dim"], epochs=10**6)
    sources = [source for source, _ in test_pairs]
    references = [target for _, target in test_pairs]

    contenders = {}
    for name in ("keras_attn", "keras_hub"):
        keras.utils.set_random_seed(0)
        dataset = make_dataset(train_pairs, tokenizer, size["batch_size"], size["max_length"], shuffle=True, seed=0)
        model = build_translator_model(config) if name == "keras_attn" else _keras_hub_translator(config)
        loss, metrics = task.loss_and_metrics(settings, TaskData(train=None))
        model.compile(optimizer=build_optimizer(task, settings, steps_per_epoch), loss=loss, metrics=metrics,
                      jit_compile=size["xla"])
        LOG.info("text %s: %d parameters, %d pairs, %d steps/epoch, budget %.0f s.", name, model.count_params(),
                 len(train_pairs), steps_per_epoch, budget_seconds)
        trained = fit_for_budget(model, dataset, budget_seconds, out_dir=tempfile.mkdtemp(prefix=f"text_{name}_"))
        trained["epochs"] = trained["steps"] / steps_per_epoch
        translator = (Translator(model, tokenizer, config) if name == "keras_attn"
                      else KerasHubGreedyTranslator(model, tokenizer, config))
        hypotheses = translator.translate(sources, batch_size=size["decode_batch"])
        scores = score_translations(hypotheses, references)
        LOG.info("text %s: %s; BLEU %.2f, chrF %.1f; e.g. %r", name, trained, scores["bleu"], scores["chrf"],
                 hypotheses[0])
        contenders[name] = dict(trained, parameters=int(model.count_params()), **scores)

    ours, theirs = contenders["keras_attn"], contenders["keras_hub"]
    setting = (f"{len(train_pairs)} short Bible verse pairs, en->es; {size['num_layers']}+{size['num_layers']} "
               f"layers, width {size['hidden_dim']}, {size['num_heads']} heads, vocab {tokenizer.vocabulary_size}, "
               f"batch {size['batch_size']}")
    evaluated = f"{len(test_pairs)} held-out verses, greedy, cached"
    rows = [
        _row("text", "BLEU (sacrebleu corpus)", ours["bleu"], theirs["bleu"], "higher", setting, evaluated),
        _row("text", "chrF", ours["chrf"], theirs["chrf"], "higher", setting, evaluated),
    ]
    return rows, contenders


def _row(task, metric, ours, theirs, better, setting, evaluated):
    return dict(task=task, metric=metric, ours=ours, theirs=theirs, better=better, setting=setting,
                evaluated=evaluated)


if __name__ == "__main__":  # pragma: no cover - manual runs
    import sys

    logging.basicConfig(level=logging.INFO)
    print(run(float(sys.argv[1]) if len(sys.argv) > 1 else 5, quick="--quick" in sys.argv))
