"""`Task`: what a family tells the one training entry (`applications.skeleton.training.train`).

A task is a recipe: its name (the `"task"` of `run.json`), its proven defaults (the values its
demo and benchmarks show working; what a user who types the shortest command gets), its
named sizes, its optimizer recipe, and three steps the training entry calls in order:

1. `read_data(settings, run)`: the user's files -> `TaskData` (batched `tf.data` pipelines
   with the run's global batch size, assets such as a tokenizer, what prediction needs);
   called after the distribution strategy exists, so it may run TensorFlow ops.
2. `build_model(settings, data, init)`: the model, inside the strategy's scope (`init` is
   the parsed `--init`, or `None`).
3. `loss_and_metrics(settings, data)`: what `model.compile` gets (and `loss_weights`, for a
   model with several outputs); the optimizer comes from the recipe
   (`applications.skeleton.optimization`).

After `fit`, `after_training(model, data, settings)` may add the field's metric on the
validation data (BLEU, CER) to the summary and to `run.json`, and draw pictures into the run
folder (it runs on the chief only).

A task module imports no TensorFlow at import time (the command registration reads its
defaults for `--help`); the steps import what they need.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class OptimizerRecipe:
    """How a task's optimizer and learning-rate schedule are made from the settings.

    Attributes:
        optimizer: `"adamw"` or `"adam"`.
        schedule: `"cosine"` (linear warm-up, cosine decay to `final_learning_rate_fraction`
            of the peak) or `"inverse_sqrt"` (linear warm-up, then `1 / sqrt(step)`).
        beta_1, beta_2, epsilon: Adam's.
        clip_norm: global gradient-norm clipping, or `None`.
        final_learning_rate_fraction: where the cosine ends, as a fraction of the peak.
        warmup_fraction: warm-up steps when `--warmup-steps` is not given, as a fraction of
            all steps (at most `max_warmup_steps`).
        no_weight_decay: variable-name fragments excluded from weight decay.
    """

    optimizer: str = "adamw"
    schedule: str = "cosine"
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7
    clip_norm: float = None
    final_learning_rate_fraction: float = 0.0
    warmup_fraction: float = 0.1
    max_warmup_steps: int = None
    no_weight_decay: tuple = ("bias", "gamma", "beta")


@dataclasses.dataclass
class TaskData:
    """What `Task.read_data` returns.

    Attributes:
        train: a `tf.data.Dataset` of `(inputs, targets)` batched with the global batch size
            (static shapes), repeated or not.
        validation: the same for validation data, or `None`.
        steps_per_epoch: optimizer steps per epoch (required for repeated datasets).
        num_train_examples: for the summary.
        preprocessing: what a predictor needs to prepare inputs like training did (recorded in
            `run.json`).
        assets: `{file name: bytes}` written into the run folder before training.
        extras: anything else `build_model` or `after_training` need (tokenizer, class names).
    """

    train: object
    validation: object = None
    steps_per_epoch: int = None
    num_train_examples: int = 0
    preprocessing: dict = dataclasses.field(default_factory=dict)
    assets: dict = dataclasses.field(default_factory=dict)
    extras: dict = dataclasses.field(default_factory=dict)


class Task:
    """The base of every family's task (see the module doc).

    Class attributes:
        name: the `"task"` of `run.json`, e.g. `"image-classification"`.
        family: the `keras-attn` command of the family, e.g. `"vision"`.
        command: the training sub-command (`"train"`, BERT's `"pretrain"`/`"finetune"`).
        defaults: the proven defaults: values for the shared flags the task decides
            (`epochs`, `batch_size`, `learning_rate`, ...), plus its own settings.
        sizes: a `SizeTable`, or `None`.
        recipe: its `OptimizerRecipe`.
        defaults_note: one line for `--help` saying what the defaults are tuned for.
        steps_per_execution: train steps per call of the compiled train function
            (`keras_attn.training.TrainingRun`); more than 1 for small models whose steps
            are short enough that the per-call overhead shows (GPT's character model).
    """

    name = None
    family = None
    command = "train"
    defaults = {}
    sizes = None
    recipe = OptimizerRecipe()
    defaults_note = ""
    steps_per_execution = 1

    def read_data(self, settings, run):
        raise NotImplementedError

    def build_model(self, settings, data, init):
        raise NotImplementedError

    def loss_and_metrics(self, settings, data):
        raise NotImplementedError

    def loss_weights(self, settings, data):
        """`model.compile`'s `loss_weights` for a model with several outputs (default `None`)."""
        return None

    def model_config(self, settings, data):
        """The architecture, recorded in `run.json` (default: the size's dimensions)."""
        if self.sizes is None:
            return {}
        return self.sizes.decode(
            settings.size, num_layers=settings.num_layers, hidden_dim=settings.hidden_dim,
            num_heads=settings.num_heads, intermediate_dim=settings.intermediate_dim,
        )

    def after_training(self, model, data, settings):
        """Metrics computed after training (e.g. BLEU on the validation data) and pictures;
        returns the metrics (`{}` by default)."""
        return {}

    def warmup_steps(self, settings, total_steps, steps_per_epoch):
        """`--warmup-steps`, or the recipe's fraction of all steps."""
        if settings.warmup_steps is not None:
            return int(settings.warmup_steps)
        steps = int(self.recipe.warmup_fraction * total_steps)
        if self.recipe.max_warmup_steps is not None:
            steps = min(steps, self.recipe.max_warmup_steps)
        return steps

    def peak_learning_rate(self, settings, warmup_steps):
        """The schedule's peak: `--learning-rate` (a task may derive a default from the model)."""
        if settings.learning_rate is None:
            raise ValueError(f"The {self.name} task has no default learning rate: pass --learning-rate.")
        return float(settings.learning_rate)
