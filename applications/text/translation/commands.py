"""`keras-attn text train|evaluate|translate|attention|export`: the translation family's commands.

    keras-attn text train --data pairs.tsv --out runs/en-es
    keras-attn text train --data pairs.tsv --out runs/en-es-rnn --architecture rnn   (or t5)
    keras-attn text evaluate --model runs/en-es --data test.tsv --json
    keras-attn text translate --model runs/en-es "In the beginning"      (also `text predict`)
    echo "And God said" | keras-attn text translate --model runs/en-es --beam-width 4
    keras-attn text attention --model runs/en-es "And God saw the light" --out alignment.png
    keras-attn text export --model runs/en-es

Imports no TensorFlow (the help screens stay fast).
"""

import sys

from applications.skeleton.commands import (
    add_evaluate_command, add_export_command, add_predict_command, add_train_command, load_predictor,
)
from applications.text.translation.sizes import ARCHITECTURES, RNN_CELLS
from applications.text.translation.task import TASK_NAME, TranslationTask

TASKS = {TASK_NAME: "applications.text.translation.predictor:TranslationPredictor"}
CUSTOM_OBJECTS = "applications.text.custom_objects"  # the RNN's BahdanauDecoder
DATA_LAYOUT = ("--data is a UTF-8 text file (optionally .gz) of source<TAB>target lines, one pair a line; "
               "further columns are ignored.")


def _predictor(args, command):
    return load_predictor(args, (TASK_NAME,), f"text {command}")


def _search_flags(parser):
    parser.add_argument("--beam-width", type=int, default=0, metavar="N", help="beam search with this width (0: greedy)")
    parser.add_argument("--length-penalty-alpha", type=float, default=0.6, metavar="A",
                        help="beam search length penalty (GNMT's alpha; default: 0.6)")


def _evaluate(args):
    return _predictor(args, "evaluate").evaluate(args.data, beam_width=args.beam_width,
                                                 length_penalty_alpha=args.length_penalty_alpha,
                                                 batch_size=args.batch_size)


def _evaluate_text(result):
    return [f"BLEU {result['bleu']:.2f}  chrF {result['chrf']:.2f}  exact match {result['exact_match']:.3f}  "
            f"({result['num_pairs']} pairs)"]


def _translate(args):
    # Arguments, or one input per stdin line (empty lines give empty translations).
    sentences = args.sentences if args.sentences else [line.rstrip("\r\n") for line in sys.stdin]
    return _predictor(args, "translate").predict(sentences, beam_width=args.beam_width,
                                                 length_penalty_alpha=args.length_penalty_alpha,
                                                 batch_size=args.batch_size)


def _attention(args):
    import os

    out = args.out or os.path.join(args.model, "attention.png")
    return {"picture": _predictor(args, "attention").attention(args.sentence, out)}


def register(subparsers):
    """Add `text` and its sub-commands to the `keras-attn` parser."""
    text = subparsers.add_parser("text", help="translation: train, evaluate, translate, attention, export")
    commands = text.add_subparsers(dest="text_command", required=True, metavar="COMMAND")

    train = add_train_command(commands, TranslationTask(), help="train a translator on a TSV of sentence pairs",
                              description=DATA_LAYOUT)
    train.add_argument("--architecture", choices=ARCHITECTURES,
                       help="transformer (Vaswani et al.), t5 (relative position bias, RMS norm, gated GELU) or rnn "
                            "(Bahdanau et al.: bidirectional recurrent encoder, additive attention at every decoder "
                            "step); the same --size table sizes all three (default: transformer)")
    train.add_argument("--rnn-cell", choices=RNN_CELLS, help="the rnn architecture's recurrent cell (default: gru)")
    train.add_argument("--max-length", type=int, metavar="N",
                       help="tokens per side, start/end included; longer pairs are left out (default: 32)")
    train.add_argument("--vocabulary-size", type=int, metavar="N",
                       help="SentencePiece pieces, a soft limit (default: 1000)")
    train.add_argument("--label-smoothing", type=float, metavar="E", help="default: 0.1")
    train.add_argument("--norm", choices=("pre", "post"), help="pre-norm or post-norm blocks (default: pre)")
    train.add_argument("--separate-embeddings", action="store_true", default=None,
                       help="separate source and target token tables")
    train.add_argument("--untied-output", action="store_true", default=None,
                       help="an output projection of its own")
    train.add_argument("--test-fraction", type=float, metavar="F", help="held out into OUT/test.tsv (default: 0)")
    train.add_argument("--export", action="store_true", default=None, help="also write OUT/saved_model")

    evaluate = add_evaluate_command(commands, _evaluate, "BLEU, chrF and exact match on a TSV of pairs",
                                    description=DATA_LAYOUT, text=_evaluate_text)
    _search_flags(evaluate)

    translate = add_predict_command(
        commands, _translate, "translate sentences (arguments, or one per stdin line)", name="translate",
        aliases=("predict",),
        description="Each argument (or stdin line) is one input and gives one output line; an empty input gives "
                    "an empty line. Inputs longer than the model's maximum length are translated from their first "
                    "tokens, with a warning naming the input.",
        text=lambda results: [result["translation"] for result in results],
    )
    _search_flags(translate)
    translate.add_argument("sentences", nargs="*")

    attention = add_predict_command(commands, _attention,
                                    "save the alignment heatmap of a translation (cross-attention, or the RNN's "
                                    "additive attention)",
                                    name="attention", text=lambda result: [result["picture"]])
    attention.add_argument("sentence")
    attention.add_argument("--out", help="PNG path (default: MODEL/attention.png)")

    add_export_command(commands, (TASK_NAME,), "text", help="write a SavedModel: strings in, translations out")
    return text
