"""Text families: translation (`keras-attn text`, `applications.text.translation`), a GPT-style
causal language model (`keras-attn gpt`, `applications.text.gpt`) and a BERT-style encoder
(`keras-attn bert`, `applications.text.bert`); `tokenizer` is their shared SentencePiece
vocabulary. Importing this package imports no TensorFlow.
"""

import importlib

_EXPORTS = {
    "from_keras_hub_t5": "applications.text.translation.keras_hub_t5",
}


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'applications.text' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
