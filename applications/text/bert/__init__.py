"""BERT (`keras-attn bert ...`): a masked-LM encoder pretrained on text and fine-tuned as a
text classifier, built from `keras_attn`.

    from applications.text import bert
    bert.pretrain(data="corpus.txt", out="runs/bert")                  # masked-LM pretraining
    bert.finetune(data="train.tsv", out="runs/books", init="runs/bert")  # [CLS] classifier
    predictor = applications.load("runs/books")                          # a TextClassifierPredictor
    encoder = bert.from_keras_hub_bert(keras_hub_bert_backbone)           # keras-hub weights

The family's parts: `tokenizers` (WordPiece or SentencePiece, TF ops), `data` (files ->
tf.data, BERT packing and masking), `bert_encoder`, `masked_lm` and `classifier` (the models),
`keras_hub_conversion`, `task` (the two recipes and their proven defaults), `predictor`,
`export` and `commands`. Importing this package imports no TensorFlow; the names below load on
first use.
"""

import importlib

_EXPORTS = {
    "BertEncoder": "applications.text.bert.bert_encoder",
    "BertMaskedLM": "applications.text.bert.masked_lm",
    "MaskedLMHead": "applications.text.bert.masked_lm",
    "BertClassifier": "applications.text.bert.classifier",
    "BertPooler": "applications.text.bert.classifier",
    "from_keras_hub_bert": "applications.text.bert.keras_hub_conversion",
    "WordPieceTokenizer": "applications.text.bert.tokenizers",
    "MaskedLMTask": "applications.text.bert.task",
    "TextClassificationTask": "applications.text.bert.task",
    "MaskedLMPredictor": "applications.text.bert.predictor",
    "TextClassifierPredictor": "applications.text.bert.predictor",
}


def _train(task_class, command, settings):
    from applications.skeleton.settings import resolve_settings
    from applications.skeleton.training import train as train_task

    task = getattr(importlib.import_module("applications.text.bert.task"), task_class)()
    return train_task(task, resolve_settings(task, **settings), command_line=[f"applications.text.bert.{command}"])


def pretrain(**settings):
    """Pretrain a masked-LM encoder: `bert.pretrain(data=..., out=..., epochs=...)`; the keywords
    are the flags of `keras-attn bert pretrain` (underscores for dashes). Returns the summary."""
    return _train("MaskedLMTask", "pretrain", settings)


def finetune(**settings):
    """Train a text classifier: `bert.finetune(data=..., out=..., init=...)`; the keywords are the
    flags of `keras-attn bert finetune`. Returns the summary."""
    return _train("TextClassificationTask", "finetune", settings)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'applications.text.bert' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
