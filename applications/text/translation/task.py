"""The translation task: an encoder-decoder trained on a TSV of sentence pairs.

`--architecture` picks the network (`applications/text/translation/model.py`):
`transformer` (the default), `t5` (T5's relative position bias, RMS norms, gated GELU) or
`rnn` (Bahdanau's bidirectional GRU/LSTM encoder and attentive recurrent decoder,
`--rnn-cell`); all three train on the same batches with the same recipe, are recorded in
`run.json`'s `model_config` and are loaded, evaluated, decoded and exported the same way.

The pairs are split (seeded) into training, validation (`--validation-fraction`, or
`--validation-data FILE`) and an optional test split written to `OUT/test.tsv`
(`--test-fraction`). A joint SentencePiece vocabulary is trained on the training pairs (or
reused from `OUT` when a run resumes). Pairs longer than `--max-length` tokens on either side
are left out of training (how many is logged). Adam (beta_2 0.98, epsilon 1e-9) with the
warm-up / inverse-square-root schedule of "Attention Is All You Need": without
`--learning-rate` its peak is the paper's `(hidden_dim * warmup_steps) ** -0.5` (for `t5`
divided by `sqrt(hidden_dim / num_heads)`: its attention logits are unscaled); without
`--warmup-steps` the warm-up is a fifth of the run (20 to 4000 steps). Label smoothing 0.1,
padding ignored by the loss and the token accuracy. After training, greedy translations of
the validation pairs are scored (`val_bleu`, `val_chrf`).

The defaults are what `make demo` proves on 2.3 k short English-Spanish Bible verse pairs on
a 2-core CPU (BLEU 8 on 300 held-out verses in about a minute): the `tiny` size (2 layers,
width 64, 4 heads, feed-forward 128), a 1,000-piece vocabulary, 18 epochs of batch 32,
sequences of 32 tokens. For tens of thousands of pairs, use `--size small --vocabulary-size
8000 --epochs 30` or larger.
"""

import math

from applications.skeleton.task import OptimizerRecipe, Task, TaskData
from applications.text.translation.sizes import SIZES

TASK_NAME = "translation"
TEST_FILE = "test.tsv"
MAX_VALIDATION_BLEU_PAIRS = 500


def default_warmup_steps(total_steps):
    """The paper's 4000 warm-up steps, shortened to a fifth of a short run (at least 20)."""
    return int(min(4000, max(20, total_steps // 5)))


class TranslationTask(Task):
    name = TASK_NAME
    family = "text"
    sizes = SIZES
    recipe = OptimizerRecipe(optimizer="adam", schedule="inverse_sqrt", beta_1=0.9, beta_2=0.98, epsilon=1e-9)
    defaults = dict(
        size="tiny", epochs=18, batch_size=32, dropout_rate=0.1, validation_fraction=0.05,
        # The task's own settings.
        max_length=32, vocabulary_size=1000, label_smoothing=0.1, norm="pre", separate_embeddings=False,
        untied_output=False, test_fraction=0.0, export=False, architecture="transformer", rnn_cell="gru",
    )
    defaults_note = ("The defaults are tuned for a few thousand short sentence pairs on a CPU (make demo: BLEU 8 on "
                     "held-out Bible verses in about a minute); for tens of thousands of pairs use --size small "
                     "--vocabulary-size 8000 --epochs 30.")

    def warmup_steps(self, settings, total_steps, steps_per_epoch):
        return int(settings.warmup_steps) if settings.warmup_steps is not None else default_warmup_steps(total_steps)

    def peak_learning_rate(self, settings, warmup_steps):
        if settings.learning_rate is not None:
            return float(settings.learning_rate)
        dimensions = self.model_dimensions(settings)
        peak = (dimensions["hidden_dim"] * max(1, warmup_steps)) ** -0.5  # TransformerSchedule's peak
        if settings.architecture == "t5":
            # T5's logits are unscaled (its query kernels start key_dim ** -0.5 smaller instead), so
            # Adam's steps move them sqrt(key_dim) times more than the Transformer's: a peak that
            # much lower learns number phrases best (0.85 held-out exact match vs 0.59 at 15 epochs).
            peak /= math.sqrt(dimensions["hidden_dim"] // dimensions["num_heads"])
        return peak

    def model_dimensions(self, settings):
        return self.sizes.decode(settings.size, num_layers=settings.num_layers, hidden_dim=settings.hidden_dim,
                                 num_heads=settings.num_heads, intermediate_dim=settings.intermediate_dim)

    # -- data -----------------------------------------------------------------------------

    def read_data(self, settings, run):
        import os

        from applications.skeleton.errors import UserError
        from applications.text.tokenizer import SubwordTokenizer
        from applications.text.translation.data import filter_by_length, make_dataset, read_pairs, split_pairs
        from applications.text.translation.translator import TOKENIZER_FILE

        check_choices(settings)
        pairs = read_pairs(settings.data)
        validation_fraction = 0.0 if settings.validation_data else settings.validation_fraction
        train_pairs, validation_pairs, test_pairs = split_pairs(pairs, validation_fraction, settings.test_fraction,
                                                                settings.seed)
        if settings.validation_data:
            validation_pairs = read_pairs(settings.validation_data)
        tokenizer_path = os.path.join(os.path.abspath(settings.out), TOKENIZER_FILE)
        if os.path.exists(tokenizer_path):  # a resumed run keeps its vocabulary
            tokenizer = SubwordTokenizer.load(tokenizer_path)
        else:
            tokenizer = SubwordTokenizer.train([s for pair in train_pairs for s in pair], settings.vocabulary_size)
        global_batch = run.global_batch_size(settings.batch_size)
        kept = filter_by_length(train_pairs, tokenizer, settings.max_length)
        if not kept:
            raise UserError(
                f"{settings.data}: every one of the {len(train_pairs)} training pairs is longer than --max-length "
                f"{settings.max_length} tokens on one side (start/end included); raise --max-length"
            )
        if len(kept) < global_batch:
            raise UserError(
                f"{settings.data}: {len(kept)} training pair(s) are left after leaving out "
                f"{len(train_pairs) - len(kept)} longer than --max-length {settings.max_length}: fewer than one "
                f"batch of {global_batch}; lower --batch-size"
            )
        validation_pairs = filter_by_length(validation_pairs, tokenizer, settings.max_length)
        train = make_dataset(kept, tokenizer, global_batch, settings.max_length, shuffle=True, seed=settings.seed,
                             repeat=True)
        validation = None
        if len(validation_pairs) >= global_batch:
            validation = make_dataset(validation_pairs, tokenizer, global_batch, settings.max_length)
        assets = {TOKENIZER_FILE: tokenizer.proto}
        if test_pairs:
            assets[TEST_FILE] = "".join(f"{source}\t{target}\n" for source, target in test_pairs).encode("utf-8")
        return TaskData(
            train=train, validation=validation, steps_per_epoch=len(kept) // global_batch,
            num_train_examples=len(kept),
            preprocessing={"tokenizer": TOKENIZER_FILE, "max_length": settings.max_length,
                           "vocabulary_size": tokenizer.vocabulary_size},
            assets=assets,
            extras={"tokenizer": tokenizer, "validation_pairs": validation_pairs},
        )

    # -- model ----------------------------------------------------------------------------

    def config(self, settings, data):
        from applications.text.translation.sizes import ModelConfig

        return ModelConfig(
            vocabulary_size=data.extras["tokenizer"].vocabulary_size, max_length=settings.max_length,
            dropout_rate=settings.dropout_rate, norm_first=settings.norm == "pre",
            share_embeddings=not settings.separate_embeddings, tie_weights=not settings.untied_output,
            architecture=settings.architecture, rnn_cell=settings.rnn_cell, **self.model_dimensions(settings),
        )

    def model_config(self, settings, data):
        return self.config(settings, data).to_dict()

    def build_model(self, settings, data, init):
        from applications.text.translation.model import build_translator_model

        model = build_translator_model(self.config(settings, data))
        if init is not None:
            self._initialise(model, init, data, settings)
        return model

    def _initialise(self, model, init, data, settings):
        """Start from a translation run's weights (same architecture, vocabulary and sizes)."""
        from applications import load
        from applications.skeleton.errors import FlagError

        if init.kind != "run":
            raise FlagError(f"--init {init}: translation starts from a translation run folder (its tokenizer too)")
        parent = load(init.value, tasks=(TASK_NAME,), command="text train --init")
        architecture = parent.translator.config.architecture
        if architecture != settings.architecture:
            raise FlagError(f"--init {init}: it is a {architecture} run; this run trains --architecture "
                            f"{settings.architecture}")
        if parent.translator.tokenizer.proto != data.extras["tokenizer"].proto:
            raise FlagError(
                f"--init {init}: its vocabulary differs from this run's; copy {init.value}/tokenizer.model into "
                "--out before training to keep it"
            )
        model.set_weights(parent.model.get_weights())

    def loss_and_metrics(self, settings, data):
        from keras_attn.training import MaskedAccuracy, MaskedSparseCategoricalCrossentropy

        return (MaskedSparseCategoricalCrossentropy(ignore_class=0, label_smoothing=settings.label_smoothing),
                [MaskedAccuracy(ignore_class=0, name="accuracy")])

    def after_training(self, model, data, settings):
        """Greedy BLEU and chrF on (up to 500 of) the validation pairs; the SavedModel with `--export`."""
        import os

        from applications.text.translation.evaluate import score_translations
        from applications.text.translation.translator import Translator

        translator = Translator(model, data.extras["tokenizer"], self.config(settings, data))
        if settings.export:
            from applications.skeleton.export import SAVED_MODEL_DIR
            from applications.text.translation.export import export_saved_model

            export_saved_model(translator, os.path.join(os.path.abspath(settings.out), SAVED_MODEL_DIR))
        pairs = data.extras["validation_pairs"][:MAX_VALIDATION_BLEU_PAIRS]
        if not pairs:
            return {}
        hypotheses = translator.translate([source for source, _ in pairs], batch_size=min(64, len(pairs)))
        scores = score_translations(hypotheses, [target for _, target in pairs])
        return {"val_bleu": scores["bleu"], "val_chrf": scores["chrf"], "val_exact_match": scores["exact_match"]}


def check_choices(settings):
    """`FlagError` for an `architecture` or `rnn_cell` the family does not have (the command line's
    `choices` check them too; this catches the Python API's keywords before any data is read)."""
    from applications.skeleton.errors import FlagError
    from applications.text.translation.sizes import ARCHITECTURES, RNN_CELLS

    for name, value, choices in (("architecture", settings.architecture, ARCHITECTURES),
                                 ("rnn_cell", settings.rnn_cell, RNN_CELLS)):
        if value not in choices:
            raise FlagError(f"--{name.replace('_', '-')}: {value!r} is not one of {', '.join(choices)}")


def epochs_for_steps(num_pairs, batch_size, steps):
    """Epochs that give at least `steps` optimizer steps."""
    return max(1, math.ceil(steps / max(1, num_pairs // batch_size)))
