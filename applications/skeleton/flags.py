"""The command-line flags every family shares, defined once.

A flag means the same thing, with the same name, default, choices and help text, in every
`keras-attn <family> train` (and `evaluate`, `predict`, `export`) command: the parsers are
built from these tables and nowhere else. Where the right value depends on the task (how
many epochs, which learning rate), the flag's default is `None` and the task's proven value
applies; each train command lists those values at the end of its `--help`
(`applications.skeleton.commands`) and records them in the run's `run.json`.

Old spellings keep working as aliases: `--mlp-dim` (= `--intermediate-dim`), `--dropout`
(= `--dropout-rate`), `--skip-corrupt` (= `--skip-bad-files`), `--validation-split`
(= `--validation-fraction`).

Example:

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_flags(parser, TRAINING_FLAGS)
>>> args = parser.parse_args(["--data", "d", "--out", "o", "--mlp-dim", "64", "--skip-corrupt"])
>>> args.intermediate_dim, args.skip_bad_files, args.strategy, args.epochs
(64, True, 'auto', None)
"""

import dataclasses

STRATEGIES = ("auto", "default", "mirrored", "multi-worker", "tpu")
MIXED_PRECISIONS = ("float16", "bfloat16")
TUNED = "default: the task's tuned value, listed at the end of this help"


def _checked(convert, accept, expected):
    """An `argparse` type: `convert(text)`, refused with "expected ..." unless `accept(value)`."""

    def parse(text):
        import argparse

        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


_positive_int = _checked(int, lambda v: v >= 1, "a positive integer")
_non_negative_int = _checked(int, lambda v: v >= 0, "an integer >= 0")
_rate = _checked(float, lambda v: 0.0 <= v < 1.0, "a number in [0, 1)")
_positive_float = _checked(float, lambda v: v > 0.0, "a positive number")
_non_negative_float = _checked(float, lambda v: v >= 0.0, "a number >= 0")


@dataclasses.dataclass(frozen=True)
class Flag:
    """One flag: its spellings (the first is the name) and `argparse.add_argument` options."""

    names: tuple
    options: dict

    @property
    def dest(self):
        return self.options.get("dest") or self.names[0].lstrip("-").replace("-", "_")

    def add_to(self, parser):
        return parser.add_argument(*self.names, **self.options)


# Flags used by several commands.
SKIP_BAD_FILES = Flag(("--skip-bad-files", "--skip-corrupt"), dict(
    action="store_true",
    help="leave out unreadable or damaged input files (each is named in a warning) instead of failing"))
JSON = Flag(("--json",), dict(action="store_true", help="print the result as one JSON document on stdout"))
MODEL = Flag(("--model",), dict(required=True, metavar="DIR", help="a run folder written by train"))
BATCH_SIZE = Flag(("--batch-size",), dict(type=_positive_int, default=32, metavar="N",
                                          help="examples per step (default: 32)"))

# `keras-attn <family> train` (and BERT's `pretrain` / `finetune`).
TRAINING_FLAGS = (
    Flag(("--data",), dict(required=True, metavar="PATH",
                           help="the training data (file, folder or '-'; its layout is in the description above)")),
    Flag(("--out",), dict(required=True, metavar="DIR",
                          help="the run folder: model.keras, run.json, assets, checkpoints, history.csv "
                               "(the same command resumes an interrupted run)")),
    Flag(("--size",), dict(metavar="NAME", help=f"a named model size of this task, listed below; the dimension "
                                               f"flags override it ({TUNED})")),
    Flag(("--num-layers",), dict(type=_positive_int, metavar="N", help="Transformer blocks (overrides --size)")),
    Flag(("--hidden-dim",), dict(type=_positive_int, metavar="N", help="model width (overrides --size)")),
    Flag(("--num-heads",), dict(type=_positive_int, metavar="N", help="attention heads (overrides --size)")),
    Flag(("--intermediate-dim", "--mlp-dim"), dict(type=_positive_int, metavar="N",
                                                   help="feed-forward hidden width (overrides --size)")),
    Flag(("--dropout-rate", "--dropout"), dict(type=_rate, metavar="RATE", help=f"dropout rate ({TUNED})")),
    Flag(("--epochs",), dict(type=_positive_int, metavar="N", help=f"passes over the training data ({TUNED})")),
    Flag(("--max-steps",), dict(type=_positive_int, metavar="N",
                                help="train for N optimizer steps instead of --epochs, in ceil(N / steps per "
                                     "epoch) epochs of equal length (rounded up to whole epochs)")),
    Flag(("--batch-size",), dict(type=_positive_int, metavar="N", help=f"examples per replica and step ({TUNED})")),
    Flag(("--learning-rate",), dict(type=_positive_float, metavar="LR",
                                    help=f"peak learning rate of the schedule ({TUNED})")),
    Flag(("--warmup-steps",), dict(type=_non_negative_int, metavar="N",
                                   help=f"optimizer steps of linear warm-up ({TUNED})")),
    Flag(("--weight-decay",), dict(type=_non_negative_float, metavar="W", help=f"decoupled weight decay ({TUNED})")),
    Flag(("--validation-data",), dict(metavar="PATH",
                                      help="held-out data in the training data's layout; without it a fraction "
                                           "of the training data is held out (--validation-fraction)")),
    Flag(("--validation-fraction", "--validation-split"), dict(type=_rate, metavar="F",
                                                               help=f"fraction held out when --validation-data "
                                                                    f"is not given ({TUNED})")),
    Flag(("--seed",), dict(type=int, default=0, help="random seed of the split, the shuffling and the weights "
                                                      "(default: 0)")),
    Flag(("--init",), dict(metavar="SPEC", help="start from trained weights: a run folder, a .keras file, or "
                                                "keras_hub:<preset> (a keras-hub preset name or folder; "
                                                "downloaded by keras-hub when it is a name)")),
    Flag(("--strategy",), dict(default="auto", choices=STRATEGIES,
                               help="distribution: auto picks a TPU, a multi-worker cluster (TF_CONFIG), "
                                    "several GPUs or one device (default: auto)")),
    Flag(("--mixed-precision",), dict(choices=MIXED_PRECISIONS,
                                      help="train in half precision with float32 variables (default: float32)")),
    Flag(("--no-xla",), dict(action="store_true",
                             help="train in TensorFlow's graph instead of XLA (faster on CPU for long "
                                  "non-causal inputs, see benchmarks/RESULTS.md)")),
    Flag(("--checkpoint-every",), dict(type=_non_negative_int, default=100, metavar="STEPS",
                                       help="also checkpoint every STEPS optimizer steps, mid-epoch; 0: at epoch "
                                            "ends only (default: 100)")),
    SKIP_BAD_FILES,
    JSON,
)

# `evaluate`: score a trained run on held-out data.
EVALUATION_FLAGS = (
    MODEL,
    Flag(("--data",), dict(required=True, metavar="PATH", help="held-out data in the training data's layout")),
    BATCH_SIZE,
    SKIP_BAD_FILES,
    JSON,
)

# `predict` (and `translate`, `generate`): apply a trained run to inputs.
PREDICTION_FLAGS = (MODEL, BATCH_SIZE, JSON)

# `export`: a SavedModel that serves without the library.
EXPORT_FLAGS = (
    MODEL,
    Flag(("--out",), dict(metavar="DIR", help="the SavedModel folder (default: MODEL/saved_model)")),
)


def add_flags(parser, flags):
    """Add every flag of `flags` to an `argparse` parser."""
    for flag in flags:
        flag.add_to(parser)


def flag_names(flags):
    """The `dest` names of `flags` (the attribute names on the parsed arguments)."""
    return [flag.dest for flag in flags]
