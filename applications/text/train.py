"""Training a translator from a pair file, through `keras_attn.training.TrainingRun`.

`train_translator` reads and splits the pairs, trains a joint SentencePiece
vocabulary (or reuses the one in `out_dir`, so a stopped run resumes), builds
and compiles the model inside the run's strategy scope and calls
`TrainingRun.fit` (checkpoints and resume, CSV history, TensorBoard,
`training_curve.png`, NaN guard). The batch size is per replica; the dataset
gets `per_replica x replicas` rows, padded to `max_length` with the last
incomplete batch dropped (static shapes for XLA).

Reproduce the shipped-corpus numbers in `demo.py` with
`keras-attn text train --data data/text/bible_en_es_short.tsv.gz --out DIR --size tiny`.
"""

import logging
import math
import os

import keras

from applications.text.data import filter_by_length, make_dataset, read_pairs, split_pairs
from applications.text.model import build_translator_model, compile_translator_model
from applications.text.sizes import model_config
from applications.text.tokenizer import SubwordTokenizer
from applications.text.translator import MODEL_FILE, TOKENIZER_FILE, Translator
from keras_attn.training import TrainingRun, apply_mixed_precision

logger = logging.getLogger(__name__)

TEST_FILE = "test.tsv"  # the held-out split, when `test_fraction > 0`


def write_pairs(pairs, path):
    """Write `(source, target)` pairs as a TSV file."""
    with open(path, "w", encoding="utf-8") as file:
        file.writelines(f"{source}\t{target}\n" for source, target in pairs)


def default_warmup_steps(total_steps):
    """The paper's 4000 warm-up steps, shortened to a fifth of a short run."""
    return int(min(4000, max(20, total_steps // 5)))


def train_translator(
    data,
    out_dir,
    size="small",
    epochs=10,
    batch_size=64,
    max_length=32,
    vocabulary_size=8000,
    num_layers=None,
    hidden_dim=None,
    num_heads=None,
    intermediate_dim=None,
    dropout_rate=0.1,
    norm_first=True,
    share_embeddings=True,
    tie_weights=True,
    label_smoothing=0.1,
    warmup_steps=None,
    validation_fraction=0.05,
    test_fraction=0.0,
    strategy="auto",
    mixed_precision=None,
    checkpoint_every_steps=200,
    jit_compile="auto",
    seed=0,
    verbose="auto",
):
    """Train a translator; returns `(translator, history)`.

    Args:
        data: a pair-file path, or a list of `(source, target)` pairs.
        out_dir: output folder: `model.keras`, `tokenizer.model`,
            `translator.json`, `history.csv`, `training_curve.png`,
            `checkpoints/`, `tensorboard/` and, with `test_fraction`, `test.tsv`.
        size: a name in `sizes.SIZES`; `num_layers`, `hidden_dim`,
            `num_heads` and `intermediate_dim` override it.
        batch_size: examples per replica and step.
        max_length: tokens per side, start/end included; longer pairs are
            left out of training.
        warmup_steps: `None` for `default_warmup_steps(total steps)`.
        strategy, mixed_precision: as in `keras_attn.training`.
        jit_compile: `TrainingRun`'s: `"auto"` (XLA on one device), `True`
            or `False`.
    """
    keras.utils.set_random_seed(seed)
    run = TrainingRun(out_dir, strategy=strategy, checkpoint_every_steps=checkpoint_every_steps, jit_compile=jit_compile)
    apply_mixed_precision(mixed_precision)
    pairs = read_pairs(data) if isinstance(data, (str, os.PathLike)) else list(data)
    train_pairs, validation_pairs, test_pairs = split_pairs(pairs, validation_fraction, test_fraction, seed)
    if test_pairs and run.is_chief:
        write_pairs(test_pairs, os.path.join(run.out_dir, TEST_FILE))

    tokenizer_path = os.path.join(run.out_dir, TOKENIZER_FILE)
    if os.path.exists(tokenizer_path):
        logger.info("Reusing the vocabulary in %s (resuming).", tokenizer_path)
        tokenizer = SubwordTokenizer.load(tokenizer_path)
    else:
        tokenizer = SubwordTokenizer.train([s for pair in train_pairs for s in pair], vocabulary_size)

    global_batch = run.global_batch_size(batch_size)
    train_pairs = filter_by_length(train_pairs, tokenizer, max_length)
    validation_pairs = filter_by_length(validation_pairs, tokenizer, max_length)
    train_ds = make_dataset(train_pairs, tokenizer, global_batch, max_length, shuffle=True, seed=seed)
    validation_ds = None
    if validation_pairs and len(validation_pairs) >= global_batch:
        validation_ds = make_dataset(validation_pairs, tokenizer, global_batch, max_length)
    steps_per_epoch = len(train_pairs) // global_batch
    if warmup_steps is None:
        warmup_steps = default_warmup_steps(steps_per_epoch * epochs)

    config = model_config(
        size, vocabulary_size=tokenizer.vocabulary_size, max_length=max_length,
        num_layers=num_layers, hidden_dim=hidden_dim, num_heads=num_heads, intermediate_dim=intermediate_dim,
        dropout_rate=dropout_rate, norm_first=norm_first, share_embeddings=share_embeddings,
        tie_weights=tie_weights, label_smoothing=label_smoothing, warmup_steps=warmup_steps,
    )
    with run.scope():
        model = build_translator_model(config)
        compile_translator_model(model, config, jit_compile=run.jit_compile)
    logger.info(
        "Training %s (%d parameters) on %d pairs: %d epochs of %d steps, global batch %d, %d replica(s).",
        size, model.count_params(), len(train_pairs), epochs, steps_per_epoch, global_batch, run.num_replicas,
    )
    translator = Translator(model, tokenizer, config)
    if run.is_chief:
        translator.save_assets(run.out_dir)
    history = run.fit(model, train_ds, epochs=epochs, validation_data=validation_ds, verbose=verbose)
    run.save_model(model, MODEL_FILE)
    return translator, history


def epochs_for_steps(num_pairs, batch_size, steps):
    """Epochs that give at least `steps` optimizer steps."""
    return max(1, math.ceil(steps / max(1, num_pairs // batch_size)))
