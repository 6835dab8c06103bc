"""The application skeleton: what every model family of `applications/` shares.

A family (translation, vision, speech, GPT, BERT) is four small parts on top of this:

- its **data module**: the user's files -> `tf.data` pipelines (and assets such as a tokenizer);
- its **model module**: backbone and head, built only from `keras_attn`;
- its **predictor** (`Predictor` subclass): loads a run folder; `predict`, `evaluate`, `export`;
- its **task** (`Task` subclass, the recipe: proven defaults, how settings become data and a
  model) and a short **command registration** (`commands.py`).

Everything else lives here, once:

| module | what it holds |
|---|---|
| `flags` | the shared command-line flags (names, defaults, choices, help), defined once |
| `settings` | `TrainSettings`: the shared flags resolved against a task's proven defaults |
| `sizes` | `SizeTable`: named model sizes, one format for every family |
| `task` | `Task` and `TaskData`: what a family tells the training entry |
| `training` | `train(task, settings)`: the one training entry of every family |
| `optimization` | optimizers and learning-rate schedules from the shared settings |
| `run_folder` | `RunFolder`: one run-folder format (`model.keras`, `run.json`, assets), lock, states |
| `loading` | `load(path)`: a run folder -> its task's predictor; the one place that turns Keras' loading errors into one-line messages |
| `legacy` | run folders written by keras-attn 0.1 (`translator.json`, `train_config.json`, `summary.json`) |
| `init` | `--init`: a run folder, a `.keras` file or `keras_hub:<preset>` |
| `predictor` | `Predictor`: the base of every family's predictor |
| `export` | SavedModel plumbing (default folder, atomic write) |
| `commands` | registering `train`/`evaluate`/`predict`/`export` sub-commands with the shared flags |
| `results` | printing results: one JSON document with `--json`, text otherwise; stdout only |
| `registry` | the families and their tasks (lazily imported) |
| `errors` | `UserError`: a problem the user can fix, reported in one line |
| `console` | quiet start-up (no TensorFlow C++ lines), interrupts (SIGINT/SIGTERM) |

Modules here import no TensorFlow at import time (the `keras-attn --help` screens must start
in well under a second); the ones that need it import it inside their functions.
"""
