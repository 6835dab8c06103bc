"""GPT-style causal language models on plain text (`keras-attn gpt`), built from `keras_attn`.

    from applications.text import gpt
    gpt.train(data="corpus.txt", out="runs/gpt")          # the shortest command's model
    predictor = applications.load("runs/gpt")             # a GPTPredictor
    predictor.generate(["In the beginning"], max_new_tokens=100, top_p=0.9, seed=1)
    predictor.evaluate("held_out.txt")                    # loss, perplexity, bits per character
    model = gpt.from_keras_hub_gpt2(keras_hub_gpt2_backbone)

The family's parts: `data` (text -> windows in tf.data), `tokenizers` (characters,
SentencePiece with byte fallback, GPT-2's BPE), `model` (the decoder-only Transformer),
`generator` (prefilled, cached decoding), `evaluation` (loss and bits per character), `task`
(the recipe and its proven defaults), `predictor`, `export` and `commands`. Importing this
package imports no TensorFlow; the names below load on first use.
"""

import importlib

_EXPORTS = {
    "from_keras_hub_gpt2": "applications.text.gpt.keras_hub_gpt2",
    "build_gpt_model": "applications.text.gpt.model",
    "GPTConfig": "applications.text.gpt.model",
    "Generator": "applications.text.gpt.generator",
    "GPTPredictor": "applications.text.gpt.predictor",
    "CausalLanguageModelTask": "applications.text.gpt.task",
    "CharacterTokenizer": "applications.text.gpt.tokenizers",
    "SentencePieceTokenizer": "applications.text.gpt.tokenizers",
    "GPT2Tokenizer": "applications.text.gpt.tokenizers",
}


def train(**settings):
    """Train a GPT: `gpt.train(data=..., out=..., max_steps=...)`; the keywords are the flags of
    `keras-attn gpt train` (underscores for dashes). Returns the summary."""
    from applications.skeleton.settings import resolve_settings
    from applications.skeleton.training import train as train_task
    from applications.text.gpt.task import CausalLanguageModelTask

    task = CausalLanguageModelTask()
    return train_task(task, resolve_settings(task, **settings), command_line=["applications.text.gpt.train"])


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'applications.text.gpt' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
