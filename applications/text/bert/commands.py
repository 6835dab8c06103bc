"""`keras-attn bert pretrain|finetune|evaluate|predict|export`: the BERT family's commands.

    keras-attn bert pretrain --data corpus.txt --out runs/bert
    keras-attn bert finetune --data train.tsv --out runs/books --init runs/bert
    keras-attn bert evaluate --model runs/books --data test.tsv --json
    keras-attn bert predict --model runs/books "Jesus wept."          (or one input per stdin line)
    keras-attn bert predict --model runs/bert "In the [MASK], God created"
    keras-attn bert export --model runs/books

`evaluate` and `predict` act on the run folder's task: masked-token accuracy and loss for a
pretraining run, classification metrics for a fine-tuned one. Imports no TensorFlow.
"""

import sys

from applications.skeleton.commands import (
    add_evaluate_command, add_export_command, add_predict_command, add_train_command, load_predictor,
)
from applications.text.bert.task import MASKED_LM, TEXT_CLASSIFICATION, MaskedLMTask, TextClassificationTask

TASKS = {
    MASKED_LM: "applications.text.bert.predictor:MaskedLMPredictor",
    TEXT_CLASSIFICATION: "applications.text.bert.predictor:TextClassifierPredictor",
}
CUSTOM_OBJECTS = "applications.text.bert.custom_objects"
CORPUS_LAYOUT = ("--data is a UTF-8 text file (optionally .gz) with one example a line (--examples lines), or text "
                 "whose tokens are run together and cut into windows (--examples windows); blank lines are skipped.")
LABELLED_LAYOUT = ("--data is a UTF-8 text file (optionally .gz) of text<TAB>label lines, or text_a<TAB>text_b<TAB>"
                   "label lines for sentence pairs (segment ids 0 and 1); blank lines are skipped.")


def _common_flags(parser):
    parser.add_argument("--sequence-length", type=int, metavar="N",
                        help="tokens per example, [CLS] and [SEP] included; longer texts are cut (default: 64)")
    parser.add_argument("--tokenizer", choices=("wordpiece", "sentencepiece"),
                        help="the vocabulary's kind, trained on --data (default: wordpiece)")
    parser.add_argument("--vocabulary-size", type=int, metavar="N", help="tokens of the vocabulary (default: 4000)")
    parser.add_argument("--cased", action="store_true", default=None,
                        help="keep case and accents (WordPiece; default: lower-case, as uncased BERT)")
    parser.add_argument("--norm", choices=("post", "pre"), help="post-norm blocks as BERT, or pre-norm (default: post)")


def _predictor(args, command):
    return load_predictor(args, tuple(TASKS), f"bert {command}")


def _evaluate(args):
    predictor = _predictor(args, "evaluate")
    if predictor.task == TEXT_CLASSIFICATION:
        return predictor.evaluate(args.data, batch_size=args.batch_size, out_dir=args.out)
    return predictor.evaluate(args.data, batch_size=args.batch_size)


def _evaluate_text(result):
    if "masked_accuracy" in result:
        return [f"masked_accuracy: {result['masked_accuracy']:.4f}", f"loss: {result['loss']:.4f}",
                f"perplexity: {result['perplexity']:.2f}", f"num_masked_tokens: {result['num_masked_tokens']}"]
    lines = [f"accuracy: {result['accuracy']:.4f}", f"macro_f1: {result['macro_f1']:.4f}",
             f"num_examples: {result['num_examples']}", "per class (precision recall f1 support):"]
    lines += [f"  {name}: {v['precision']:.3f} {v['recall']:.3f} {v['f1']:.3f} {v['support']}"
              for name, v in result["per_class"].items()]
    if "confusion_matrix_png" in result:
        lines.append(f"confusion matrix: {result['confusion_matrix_png']}")
    return lines


def _predict(args):
    # Arguments, or one input per stdin line.
    inputs = args.inputs if args.inputs else [line.rstrip("\r\n") for line in sys.stdin if line.strip()]
    return _predictor(args, "predict").predict(inputs, top_k=args.top_k, batch_size=args.batch_size)


def _predict_text(results):
    lines = []
    for result in results:
        if "masks" in result:
            lines.append(f"{result['filled']}\t" + " | ".join(
                ", ".join(f"{item['token']} {item['probability']:.3f}" for item in mask["top_k"])
                for mask in result["masks"]))
        else:
            lines.append(f"{result['label']}\t{result['probability']:.3f}\t{result['input']}")
    return lines


def register(subparsers):
    """Add `bert` and its sub-commands to the `keras-attn` parser."""
    bert = subparsers.add_parser("bert", help="BERT: pretrain (masked LM), finetune (classifier), evaluate, predict")
    commands = bert.add_subparsers(dest="bert_command", required=True, metavar="COMMAND")

    pretrain = add_train_command(commands, MaskedLMTask(), name="pretrain",
                                 help="pretrain a BERT encoder with the masked-LM objective on a text corpus",
                                 description=CORPUS_LAYOUT)
    _common_flags(pretrain)
    pretrain.add_argument("--examples", choices=("lines", "windows"),
                          help="one example a line, or windows of --sequence-length tokens (default: lines)")

    finetune = add_train_command(commands, TextClassificationTask(), name="finetune",
                                 help="train a [CLS] classifier on labelled lines, from --init or from scratch",
                                 description=LABELLED_LAYOUT + " With --init (a bert pretrain or finetune run "
                                 "folder, or keras_hub:<BERT preset>) the vocabulary and encoder come from it.")
    _common_flags(finetune)
    finetune.add_argument("--freeze-encoder", action="store_true", default=None,
                          help="train the pooler and the classifier head only")

    evaluate = add_evaluate_command(
        commands, _evaluate, "masked-token accuracy and loss (pretrain run), or accuracy, macro F1, per-class "
        "precision/recall and a confusion-matrix PNG (finetune run)",
        description="--data is a corpus for a pretraining run, a labelled file for a fine-tuned one.",
        text=_evaluate_text)
    evaluate.add_argument("--out", metavar="DIR", help="where confusion_matrix.png goes (default: the run folder)")

    predict = add_predict_command(
        commands, _predict, "labels of texts (finetune run) or the tokens at [MASK] (pretrain run)",
        description="Each argument (or non-blank stdin line) is one input: a text, 'text_a<TAB>text_b' for a pair "
                    "model, or a text with [MASK] tokens for a pretraining run.",
        text=_predict_text)
    predict.add_argument("--top-k", type=int, default=5, metavar="K", help="labels or tokens per input (default: 5)")
    predict.add_argument("inputs", nargs="*")

    add_export_command(commands, (TEXT_CLASSIFICATION,), "bert",
                       help="write a SavedModel of a fine-tuned classifier: strings in, labels and probabilities out")
    return bert
