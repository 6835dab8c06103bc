"""BERT's two tasks: `masked-lm` (`keras-attn bert pretrain`) and `text-classification`
(`keras-attn bert finetune`).

**Pretraining** reads a corpus (one example a line, or `--examples windows`: the lines' tokens
run together in windows), trains a WordPiece vocabulary on it (`--tokenizer sentencepiece` for
SentencePiece; a resumed run keeps its own), and trains a `BertMaskedLM`: post-norm encoder
blocks (`--norm pre` for pre-norm) with BERT's masked-LM objective, masking done in the
`tf.data` pipeline (`applications/text/bert/data.py`), loss and masked-token accuracy on the
chosen positions only. A fraction of the lines (`--validation-fraction`) is held out and scored
every epoch (`val_loss`, `val_masked_accuracy`).

**Fine-tuning** reads `text<TAB>label` (or `text_a<TAB>text_b<TAB>label`) lines and trains a
`BertClassifier` (BERT's pooler on `[CLS]`, dropout, a dense layer). With `--init` the
tokenizer and the encoder's weights come from a pretraining (or classification) run folder, or
from a keras-hub `BertBackbone` preset (`keras_hub:<preset>`, its pooler too), and the size
flags are ignored; without it the same architecture and a vocabulary trained on the training
texts start from scratch. `--freeze-encoder` trains the pooler and the head only.

The defaults are what the demo proves on the shipped Bible data (`applications/text/bert/demo.py`;
measured on a 2-core Intel Xeon CPU shared with other jobs, load average ~7, TensorFlow 2.21):
the `tiny` size (BERT-Tiny: 2 layers, width 128, 2 heads, feed-forward 512), a WordPiece
vocabulary of ~3,900 tokens (asked: 4,000), 64-token examples, batch 32, AdamW at 1e-3 with 10 %
warm-up and cosine decay, weight decay 0.01, dropout 0.1. Pretraining: 1 epoch of 64-token
windows of ~28,700 verses (443 steps, 146 s of training; held-out masked-token accuracy 0.118).
Fine-tuning: 5 epochs of the 3,466 book-kind training verses (540 steps, 155-185 s): test
accuracy 0.508 (macro F1 0.481) from the pretrained encoder, 0.494 (0.490) from scratch, chance
0.143; the whole demo took 249 s of CPU (8.4 min of wall time on that loaded machine). Longer
pretraining is what widens the gap (benchmarks/APPLICATIONS.md: 0.570 vs 0.520 after 7 minutes
of pretraining); a TF-IDF + logistic-regression baseline reaches 0.714 on this task.
"""

import logging

from applications.skeleton.task import OptimizerRecipe, Task, TaskData
from applications.text.bert.sizes import SIZES

logger = logging.getLogger(__name__)

MASKED_LM = "masked-lm"
TEXT_CLASSIFICATION = "text-classification"

_COMMON = dict(
    size="tiny", batch_size=32, dropout_rate=0.1, weight_decay=0.01,
    sequence_length=64, vocabulary_size=4000, tokenizer="wordpiece", cased=False, norm="post",
)
_RECIPE = OptimizerRecipe(optimizer="adamw", schedule="cosine", clip_norm=1.0, warmup_fraction=0.1,
                          no_weight_decay=("bias", "gamma", "beta"))


def _split(items, fraction, seed):
    """`(train, held_out)` index lists of a seeded shuffle; `held_out` is empty for fraction 0."""
    import random

    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    count = max(1, round(len(order) * fraction)) if fraction else 0
    if count >= len(order):
        count = 0
    return sorted(order[count:]), sorted(order[:count])


def _full_batches(count, global_batch, what, source):
    from applications.skeleton.errors import UserError

    steps = count // global_batch
    if steps < 1:
        raise UserError(f"{source}: {count} {what} make no full batch of {global_batch}; lower --batch-size")
    return steps


def _tokenizer_for(settings, texts):
    """The run folder's tokenizer when a run resumes, else one trained on `texts`."""
    import os

    from applications.text.bert.tokenizers import load_tokenizer, train_tokenizer

    out = os.path.abspath(settings.out)
    recorded = {"tokenizer": settings.tokenizer, "lowercase": not settings.cased}
    try:
        return load_tokenizer(lambda name: os.path.join(out, name), recorded)
    except ValueError:  # no asset yet: a new run
        return train_tokenizer(texts, settings.tokenizer, settings.vocabulary_size, lowercase=not settings.cased)


def _validation_windows(tokenizer, texts, sequence_length):
    """Windows of the held-out lines, or none when they are shorter than one window."""
    from applications.text.bert.data import TextFileError, windows_of

    try:
        return windows_of(tokenizer, texts, sequence_length) if texts else []
    except TextFileError:
        logger.info("The %d held-out lines are shorter than one window: no validation.", len(texts))
        return []


def _encoder_config(settings, dimensions, vocabulary_size, max_sequence_length):
    return dict(vocabulary_size=vocabulary_size, max_sequence_length=max_sequence_length,
                dropout_rate=settings.dropout_rate, norm_first=settings.norm == "pre", **dimensions)


class _BertTask(Task):
    family = "bert"
    sizes = SIZES
    recipe = _RECIPE

    def dimensions(self, settings):
        return self.sizes.decode(settings.size, num_layers=settings.num_layers, hidden_dim=settings.hidden_dim,
                                 num_heads=settings.num_heads, intermediate_dim=settings.intermediate_dim)

    def model_config(self, settings, data):
        encoder = data.extras.get("built_encoder")
        return {} if encoder is None else encoder.get_config()


class MaskedLMTask(_BertTask):
    name = MASKED_LM
    command = "pretrain"
    defaults = dict(_COMMON, epochs=1, learning_rate=1e-3, validation_fraction=0.02, examples="windows")
    defaults_note = ("The defaults are tuned for ~30,000 short lines (Bible verses) on a CPU: BERT-Tiny, 1 epoch of "
                     "64-token windows in a few minutes (make demo); pretrain longer (--epochs) and larger (--size "
                     "mini) for an encoder that pays off.")

    def read_data(self, settings, run):
        from applications.skeleton.errors import FlagError
        from applications.text.bert.data import masked_lm_dataset, max_predictions, read_corpus, windows_of

        if settings.init:
            raise FlagError("--init: bert pretrain starts from random weights; --init belongs to bert finetune")
        texts = read_corpus(settings.data)
        if settings.validation_data:
            train_texts, validation_texts = texts, read_corpus(settings.validation_data)
        else:
            train_index, held_index = _split(texts, settings.validation_fraction, settings.seed)
            train_texts, validation_texts = [texts[i] for i in train_index], [texts[i] for i in held_index]
        tokenizer = _tokenizer_for(settings, train_texts)
        length = settings.sequence_length
        if settings.examples == "windows":
            train = windows_of(tokenizer, train_texts, length, settings.data)
            held = _validation_windows(tokenizer, validation_texts, length)
        else:
            train, held = train_texts, validation_texts
        global_batch = run.global_batch_size(settings.batch_size)
        steps = _full_batches(len(train), global_batch, f"examples ({settings.examples})", settings.data)
        dataset = masked_lm_dataset(train, tokenizer, global_batch, length, seed=settings.seed, shuffle=True,
                                    repeat=True)
        validation = None
        if len(held) >= global_batch:
            validation = masked_lm_dataset(held, tokenizer, global_batch, length, seed=settings.seed + 1)
        name, content = tokenizer.asset()
        return TaskData(
            train=dataset, validation=validation, steps_per_epoch=steps, num_train_examples=len(train),
            preprocessing=dict(tokenizer.preprocessing(), sequence_length=length, examples=settings.examples,
                               mask_rate=0.15, max_predictions=max_predictions(length)),
            assets={name: content}, extras={"tokenizer": tokenizer},
        )

    def build_model(self, settings, data, init):
        from applications.text.bert.bert_encoder import BertEncoder
        from applications.text.bert.masked_lm import BertMaskedLM

        config = _encoder_config(settings, self.dimensions(settings), data.extras["tokenizer"].vocabulary_size,
                                 settings.sequence_length)
        encoder = BertEncoder(**config, name="encoder")
        data.extras["built_encoder"] = encoder
        return BertMaskedLM(encoder, name="bert_masked_lm")

    def loss_and_metrics(self, settings, data):
        from keras_attn.training import MaskedAccuracy, MaskedSparseCategoricalCrossentropy

        return MaskedSparseCategoricalCrossentropy(ignore_class=0), [MaskedAccuracy(ignore_class=0,
                                                                                    name="masked_accuracy")]


class TextClassificationTask(_BertTask):
    name = TEXT_CLASSIFICATION
    command = "finetune"
    defaults = dict(_COMMON, epochs=5, learning_rate=1e-3, validation_fraction=0.1, freeze_encoder=False)
    defaults_note = ("The defaults are tuned for a few thousand labelled verses on a CPU (make demo); the same "
                     "settings serve --init and from-scratch runs.")

    def read_data(self, settings, run):
        from applications.skeleton.classification import check_known_labels
        from applications.skeleton.errors import UserError
        from applications.skeleton.init import parse_init
        from applications.text.bert.data import classification_dataset, read_labelled

        data = read_labelled(settings.data)
        class_names = sorted(set(data.labels))
        if len(class_names) < 2:
            raise UserError(f"{settings.data}: every line has the label {class_names[0]!r}; classification needs "
                            "at least two labels")
        if settings.validation_data:
            held = read_labelled(settings.validation_data)
            if held.text_pairs != data.text_pairs:
                raise UserError(f"--validation-data {held.path}: its lines have {3 if held.text_pairs else 2} "
                                f"columns, the training data's {3 if data.text_pairs else 2}")
            for label in held.labels:
                if label not in class_names:
                    check_known_labels([label], class_names, f"{held.path} (line {held.first_line_of(label)})")
            train, validation = _columns(data, range(len(data.texts))), _columns(held, range(len(held.texts)))
        else:
            train_index, held_index = _split(data.texts, settings.validation_fraction, settings.seed)
            train, validation = _columns(data, train_index), _columns(data, held_index)
        init = parse_init(settings.init)
        encoder, tokenizer, pooler = None, None, None
        if init is not None:
            with run.scope():
                encoder, tokenizer, pooler = init_encoder(init)
            if settings.sequence_length > encoder.max_sequence_length:
                from applications.skeleton.errors import FlagError

                raise FlagError(f"--sequence-length {settings.sequence_length} is longer than the --init encoder's "
                                f"position table ({encoder.max_sequence_length})")
        else:
            tokenizer = _tokenizer_for(settings, train[0] + (train[1] or []))
        index = {name: i for i, name in enumerate(class_names)}
        global_batch = run.global_batch_size(settings.batch_size)
        steps = _full_batches(len(train[0]), global_batch, "training lines", settings.data)

        def dataset(columns, **options):
            texts, pairs, labels = columns
            return classification_dataset(texts, pairs, [index[label] for label in labels], tokenizer, global_batch,
                                          settings.sequence_length, seed=settings.seed, **options)

        validation_data = dataset(validation) if len(validation[0]) >= global_batch else None
        name, content = tokenizer.asset()
        return TaskData(
            train=dataset(train, shuffle=True, repeat=True), validation=validation_data, steps_per_epoch=steps,
            num_train_examples=len(train[0]),
            preprocessing=dict(tokenizer.preprocessing(), sequence_length=settings.sequence_length,
                               class_names=class_names, text_pairs=data.text_pairs),
            assets={name: content},
            extras={"tokenizer": tokenizer, "encoder": encoder, "pooler": pooler, "class_names": class_names,
                    "text_pairs": data.text_pairs},
        )

    def build_model(self, settings, data, init):
        from applications.text.bert.bert_encoder import BertEncoder
        from applications.text.bert.classifier import BertClassifier

        encoder = data.extras["encoder"]
        if encoder is None:
            config = _encoder_config(settings, self.dimensions(settings), data.extras["tokenizer"].vocabulary_size,
                                     settings.sequence_length)
            encoder = BertEncoder(**config, name="encoder")
        encoder.trainable = not settings.freeze_encoder
        data.extras["built_encoder"] = encoder
        class_names = data.extras["class_names"]
        model = BertClassifier(encoder, num_classes=len(class_names), dropout_rate=settings.dropout_rate,
                               class_names=class_names, text_pairs=data.extras["text_pairs"], name="bert_classifier")
        if data.extras["pooler"] is not None:
            model.pooler.dense.set_weights(data.extras["pooler"])
        return model

    def loss_and_metrics(self, settings, data):
        import keras

        return keras.losses.SparseCategoricalCrossentropy(from_logits=True), [
            keras.metrics.SparseCategoricalAccuracy(name="accuracy")]


def _columns(data, indices):
    """`(texts, pairs or None, labels)` of the examples at `indices`."""
    indices = list(indices)
    pairs = [data.pairs[i] for i in indices] if data.text_pairs else None
    return [data.texts[i] for i in indices], pairs, [data.labels[i] for i in indices]


def init_encoder(init):
    """`(encoder, tokenizer, pooler weights or None)` of a `finetune --init`.

    A run folder of `bert pretrain` or `bert finetune` (its encoder and vocabulary; a
    classifier's pooler too), or a keras-hub `BertBackbone` preset (`keras_hub:<preset>`: the
    converted backbone, its pooler and the WordPiece vocabulary of the preset's tokenizer).
    """
    from applications.skeleton.errors import FlagError

    if init.kind == "keras_file":
        raise FlagError(f"--init {init}: a .keras file has no vocabulary; pass the run folder that holds it")
    if init.kind == "keras_hub":
        return _keras_hub_init(init)
    from applications import load

    predictor = load(init.value, tasks=(MASKED_LM, TEXT_CLASSIFICATION), command="bert finetune --init")
    pooler = predictor.model.pooler.dense.get_weights() if predictor.task == TEXT_CLASSIFICATION else None
    return predictor.encoder, predictor.tokenizer, pooler


def _keras_hub_init(init):
    from applications.skeleton.errors import FlagError
    from applications.skeleton.init import load_keras_hub_backbone
    from applications.text.bert.keras_hub_conversion import from_keras_hub_bert, keras_hub_pooler_weights
    from applications.text.bert.tokenizers import WordPieceTokenizer

    backbone = load_keras_hub_backbone(init, ("BertBackbone",), "bert")
    try:
        import keras_hub

        hub_tokenizer = keras_hub.models.BertTokenizer.from_preset(init.value)
        vocabulary = list(hub_tokenizer.get_vocabulary())
    except Exception as error:  # noqa: BLE001 - keras-hub raises many kinds for a missing tokenizer
        raise FlagError(
            f"--init {init}: the preset has no BERT tokenizer (tokenizer.json and its vocabulary.txt); keras-attn "
            f"bert needs the vocabulary the backbone was trained with ({type(error).__name__}: {str(error)[:200]})"
        ) from None
    if len(vocabulary) != backbone.vocabulary_size:
        raise FlagError(f"--init {init}: the preset's tokenizer has {len(vocabulary)} tokens, its backbone "
                        f"{backbone.vocabulary_size}")
    tokenizer = WordPieceTokenizer(vocabulary, lowercase=bool(getattr(hub_tokenizer, "lowercase", True)))
    return from_keras_hub_bert(backbone), tokenizer, keras_hub_pooler_weights(backbone)

