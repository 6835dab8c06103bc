"""The causal language-modelling task: a GPT trained on a text corpus.

The corpus (a file, a folder of `.txt` files or `-`, `applications/text/gpt/data.py`) is
split by characters: the last `--validation-fraction` (10 %) is the validation text, unless
`--validation-data` is given. The tokenizer (`--tokenizer char|sentencepiece`,
`applications/text/gpt/tokenizers.py`) is trained on the training text (or reused from `OUT`
when a run resumes, or from the `--init` run or preset). Training samples random contiguous
windows of `--sequence-length` tokens; an epoch is the corpus's tokens once
(`tokens // (batch x sequence length)` steps), `--max-steps N` trains N steps instead.
After training the validation text is scored exactly (`val_loss`, `val_perplexity`,
`val_bits_per_character`, over every validation token).

The recipe is nanoGPT's for a small character model: AdamW (beta_2 0.99, epsilon 1e-8,
weight decay 0.1 on kernels and embeddings), peak learning rate 1e-3 after 100 linear
warm-up steps, cosine decay to 1e-4, gradient clipping at norm 1, no dropout.

The defaults are what `keras-attn demo` proves on the first 500,000 characters of the
shipped English Bible text on a 2-core CPU: the `small` size (4 blocks, width 128, 4 heads,
feed-forward 512, learned positions, tied output, 0.81 M parameters), context 64, batch 12,
one epoch (585 steps). Measured on an Intel Xeon with 2 cores shared with other jobs (load
average ~5): 66 s of training, validation loss 1.85 (2.67 bits per character), samples that
spell English words and verse punctuation. `benchmarks/applications/gpt_char.py` trains the
same recipe for 2,000 steps on 1.1 M characters: validation loss 1.44 (2.07 bits per
character), below nanoGPT's 1.56 (`benchmarks/APPLICATIONS.md`). For a larger corpus, raise
`--size` and `--sequence-length` (and the steps), and add `--dropout-rate 0.1` when the
validation loss starts to rise.
"""

from applications.skeleton.task import OptimizerRecipe, Task, TaskData
from applications.text.gpt.sizes import SIZES

TASK_NAME = "causal-lm"


class CausalLanguageModelTask(Task):
    name = TASK_NAME
    family = "gpt"
    sizes = SIZES
    recipe = OptimizerRecipe(
        optimizer="adamw", schedule="cosine", beta_1=0.9, beta_2=0.99, epsilon=1e-8, clip_norm=1.0,
        final_learning_rate_fraction=0.1, no_weight_decay=("bias", "gamma", "beta"),
    )
    defaults = dict(
        size="small", epochs=1, batch_size=12, learning_rate=1e-3, warmup_steps=100, weight_decay=0.1,
        dropout_rate=0.0, validation_fraction=0.1,
        # The task's own settings.
        sequence_length=64, tokenizer="char", vocabulary_size=1000, positions="learned", untied_output=False,
        # Python API only: gradient clipping (the recipe's norm).
        gradient_clip_norm=1.0,
    )
    # A step of the small model takes ~50 ms of CPU: calling the compiled step 10 steps at a time keeps both
    # cores busy (the next batch is made while a step runs) instead of waiting on Python between steps.
    steps_per_execution = 10
    defaults_note = ("The defaults are nanoGPT's CPU recipe for a small character model of a few hundred thousand to a "
                     "few million characters (keras-attn demo: one epoch of the first 500,000 characters of the "
                     "English Bible in about a minute, 2.7 validation bits per character); --max-steps 2000 on "
                     "1.1 M characters reaches a validation loss of 1.44 (benchmarks/APPLICATIONS.md).")

    # -- data -----------------------------------------------------------------------------

    def read_data(self, settings, run):
        import os

        from applications.skeleton.errors import FlagError
        from applications.skeleton.init import parse_init
        from applications.text.gpt.data import (
            check_long_enough, evaluation_dataset, read_corpus, split_corpus, steps_per_epoch, training_windows,
        )

        if settings.sequence_length < 2:
            raise FlagError(f"--sequence-length {settings.sequence_length}: must be at least 2")
        text = read_corpus(settings.data)
        train_text, validation_text = split_corpus(text, 0.0 if settings.validation_data else
                                                   settings.validation_fraction)
        if settings.validation_data:
            validation_text = read_corpus(settings.validation_data)
        init = parse_init(settings.init)
        parent = None
        if init is not None:
            with run.scope():
                parent = load_init(init, settings)
        tokenizer = self._tokenizer(settings, train_text, parent, os.path.abspath(settings.out))
        ids = tokenizer.encode(train_text)
        check_long_enough(ids, settings.sequence_length, settings.data,
                          0.0 if settings.validation_data else settings.validation_fraction)
        global_batch = run.global_batch_size(settings.batch_size)
        validation_ids = tokenizer.encode(validation_text) if validation_text else None
        validation = None
        if validation_ids is not None and len(validation_ids) >= 2:
            validation = evaluation_dataset(validation_ids, settings.sequence_length, global_batch, tokenizer.pad_id)
        return TaskData(
            train=training_windows(ids, settings.sequence_length, global_batch, settings.seed),
            validation=validation,
            steps_per_epoch=steps_per_epoch(len(ids), global_batch, settings.sequence_length),
            num_train_examples=len(ids),
            preprocessing={"tokenizer": tokenizer.kind, "tokenizer_files": sorted(tokenizer.assets()),
                           "sequence_length": settings.sequence_length,
                           "vocabulary_size": tokenizer.vocabulary_size},
            assets=tokenizer.assets(),
            extras={"tokenizer": tokenizer, "parent": parent, "validation_ids": validation_ids,
                    "validation_characters": len(validation_text)},
        )

    def _tokenizer(self, settings, train_text, parent, out):
        """The run's tokenizer: the one in OUT when resuming, the `--init`'s, or a new one."""
        import os

        from applications.text.gpt.tokenizers import CHAR_FILE, SENTENCEPIECE_FILE, load_tokenizer, train_tokenizer

        if parent is not None:
            return parent["tokenizer"]
        existing = {"char": CHAR_FILE, "sentencepiece": SENTENCEPIECE_FILE}.get(settings.tokenizer)
        if existing and os.path.exists(os.path.join(out, existing)):  # a resumed run keeps its vocabulary
            return load_tokenizer(settings.tokenizer, lambda name: _read(os.path.join(out, name)))
        return train_tokenizer(settings.tokenizer, train_text, settings.vocabulary_size)

    # -- model ----------------------------------------------------------------------------

    def config(self, settings, data):
        from applications.text.gpt.model import GPTConfig

        parent = data.extras["parent"]
        if parent is not None:
            return GPTConfig.from_dict(dict(parent["config"].to_dict(), dropout_rate=settings.dropout_rate))
        dimensions = self.sizes.decode(settings.size, num_layers=settings.num_layers, hidden_dim=settings.hidden_dim,
                                       num_heads=settings.num_heads, intermediate_dim=settings.intermediate_dim)
        return GPTConfig(vocabulary_size=data.extras["tokenizer"].vocabulary_size,
                         sequence_length=settings.sequence_length, dropout_rate=settings.dropout_rate,
                         positions=settings.positions, tie_weights=not settings.untied_output, **dimensions)

    def model_config(self, settings, data):
        return self.config(settings, data).to_dict()

    def build_model(self, settings, data, init):
        from applications.skeleton.errors import FlagError
        from applications.text.gpt.model import build_gpt_model

        config = self.config(settings, data)
        if settings.sequence_length > config.sequence_length:
            raise FlagError(f"--sequence-length {settings.sequence_length}: longer than the --init model's context "
                            f"of {config.sequence_length} tokens")
        model = build_gpt_model(config)
        parent = data.extras["parent"]
        if parent is not None:
            model.set_weights(parent["model"].get_weights())
        return model

    def loss_and_metrics(self, settings, data):
        from applications.text.gpt.data import IGNORE_LABEL
        from keras_attn.training import MaskedSparseCategoricalCrossentropy

        return MaskedSparseCategoricalCrossentropy(ignore_class=IGNORE_LABEL), []

    def after_training(self, model, data, settings):
        """The validation text scored exactly: `val_loss`, `val_perplexity`, `val_bits_per_character`."""
        from applications.text.gpt.evaluation import score_text

        ids = data.extras["validation_ids"]
        if ids is None or len(ids) < 2:
            return {}
        scores = score_text(model, ids, data.extras["validation_characters"], settings.sequence_length,
                            settings.batch_size, data.extras["tokenizer"].pad_id)
        return {"val_loss": scores["loss"], "val_perplexity": scores["perplexity"],
                "val_bits_per_character": scores["bits_per_character"], "val_tokens": scores["tokens"]}


def _read(path):
    with open(path, "rb") as file:
        return file.read()


def load_init(init, settings):
    """What `--init` gives: `{"model", "config", "tokenizer"}` from a GPT run folder, a `.keras`
    file next to its run folder, or a keras-hub GPT-2 preset (with its BPE tokenizer)."""
    from applications.skeleton.errors import FlagError

    if init.kind == "keras_hub":
        return _keras_hub_init(init)
    from applications import load

    path = init.value
    if init.kind == "keras_file":
        import os

        path = os.path.dirname(os.path.abspath(path))
    try:
        predictor = load(path, tasks=(TASK_NAME,), command="gpt train --init")
    except FlagError:
        raise
    generator = predictor.generator
    return {"model": generator.model, "config": predictor.config, "tokenizer": generator.tokenizer}


def _keras_hub_init(init):
    import os

    from applications.skeleton.errors import FlagError
    from applications.skeleton.init import load_keras_hub_backbone
    from applications.text.gpt.keras_hub_gpt2 import from_keras_hub_gpt2, gpt2_config
    from applications.text.gpt.tokenizers import GPT2Tokenizer

    backbone = load_keras_hub_backbone(init, ("GPT2Backbone",), "gpt")
    import keras_hub

    try:
        hub_tokenizer = keras_hub.tokenizers.GPT2Tokenizer.from_preset(init.value)
    except Exception as error:  # noqa: BLE001 - keras-hub raises many kinds (missing file, HTTP, ...)
        where = "folder" if os.path.isdir(init.value) else "preset"
        raise FlagError(f"--init {init}: the {where} holds no GPT-2 tokenizer that keras-hub can load "
                        f"({type(error).__name__}); keras-attn gpt fine-tunes a GPT-2 preset with its own "
                        "tokenizer (save it with tokenizer.save_to_preset)") from None
    return {"model": from_keras_hub_gpt2(backbone), "config": gpt2_config(backbone),
            "tokenizer": GPT2Tokenizer.from_keras_hub(hub_tokenizer)}
