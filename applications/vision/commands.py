"""`keras-attn vision train|evaluate|predict|explain|export`: the vision family's commands.

Imports no TensorFlow (the help screens stay fast); the handlers load what they need.
"""

import argparse
import os

from applications.skeleton.commands import (
    add_evaluate_command, add_export_command, add_predict_command, add_train_command, load_predictor,
)
from applications.skeleton.flags import SKIP_BAD_FILES
from applications.vision.task import TASK_NAME, ImageClassificationTask

TASKS = {TASK_NAME: "applications.vision.predictor:ImageClassifierPredictor"}
CUSTOM_OBJECTS = "applications.vision.custom_objects"
DATA_LAYOUT = "--data is a folder with one subfolder of images per class (images/<class>/*.png|jpg|bmp|gif|tif|webp)."


def image_size(text):
    """`"224"` -> 224, `"160x224"` -> (160, 224)."""
    try:
        values = [int(part) for part in text.lower().split("x")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or HxW, got {text!r}") from None
    if len(values) not in (1, 2) or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected N or HxW, got {text!r}")
    return values[0] if len(values) == 1 else tuple(values)


def _predictor(args, command):
    return load_predictor(args, (TASK_NAME,), f"vision {command}")


def _evaluate(args):
    predictor = _predictor(args, "evaluate")
    return predictor.evaluate(args.data, batch_size=args.batch_size, skip_bad_files=args.skip_bad_files,
                              out_dir=args.out)


def _evaluate_text(result):
    lines = [f"accuracy: {result['accuracy']:.4f}", f"top5_accuracy: {result['top5_accuracy']:.4f}",
             f"num_examples: {result['num_examples']}", "per-class accuracy:"]
    lines += [f"  {name}: {value:.4f}" for name, value in result["per_class_accuracy"].items()]
    if "confusion_matrix_png" in result:
        lines.append(f"confusion matrix: {result['confusion_matrix_png']}")
    return lines


def _predict(args):
    return _predictor(args, "predict").predict(args.images, top_k=args.top_k, batch_size=args.batch_size,
                                               skip_bad_files=args.skip_bad_files)


def _predict_text(results):
    return [f"{r['input']}: " + ", ".join(f"{i['label']} {i['probability']:.3f}" for i in r["top_k"])
            for r in results]


def _explain(args):
    predictor = _predictor(args, "explain")
    if args.out and len(args.images) > 1:
        os.makedirs(args.out, exist_ok=True)
    results = []
    for path in args.images:
        name = os.path.splitext(os.path.basename(path))[0] + "_rollout.png"
        out = os.path.join(args.out, name) if args.out else name
        if args.out and len(args.images) == 1 and args.out.lower().endswith(".png"):
            out = args.out
        result = predictor.explain(path, out, head_fusion=args.head_fusion)
        result.pop("relevance")
        results.append(result)
    return results


def register(subparsers):
    """Add `vision` and its sub-commands to the `keras-attn` parser."""
    vision = subparsers.add_parser("vision", help="Vision Transformers on folders of images")
    commands = vision.add_subparsers(dest="vision_command", required=True, metavar="COMMAND")

    train = add_train_command(commands, ImageClassificationTask(), help="train or fine-tune a ViT on a folder of images",
                              description=DATA_LAYOUT)
    train.add_argument("--image-size", type=image_size, metavar="N|HxW",
                       help="train at this size (default: --init's, or the folder's most common size rounded "
                            "up to whole patches)")
    train.add_argument("--patch-size", type=int, metavar="N", help="patch size (overrides --size's)")
    train.add_argument("--pooling", choices=("token", "gap"), help="class token or average pooling (default: token)")
    train.add_argument("--stochastic-depth", dest="stochastic_depth_rate", type=float, metavar="RATE",
                       help="drop-path rate of the last block (default: 0)")
    train.add_argument("--head-dropout", dest="head_dropout_rate", type=float, metavar="RATE",
                       help="dropout before the classifier (default: 0)")
    train.add_argument("--augment", action="store_true", default=None,
                       help="random shifts and zooms while training (off by default)")
    train.add_argument("--flip", action="store_true", default=None,
                       help="random horizontal flips while training (off by default: flips change the meaning "
                            "of digits, text and many medical or satellite images)")
    train.add_argument("--no-augment", dest="augment", action="store_false", default=None,
                       help=argparse.SUPPRESS)  # the default now; kept for old scripts
    train.add_argument("--no-flip", dest="flip", action="store_false", default=None, help=argparse.SUPPRESS)
    train.add_argument("--freeze-backbone", action="store_true", default=None,
                       help="with --init: train the new head only")

    evaluate = add_evaluate_command(commands, _evaluate, "accuracy, per-class accuracy and a confusion-matrix PNG",
                                    description=DATA_LAYOUT, text=_evaluate_text)
    evaluate.add_argument("--out", metavar="DIR", help="where confusion_matrix.png goes (default: the run folder)")

    predict = add_predict_command(commands, _predict, "top-k labels of image files", text=_predict_text)
    predict.add_argument("--top-k", type=int, default=5, metavar="K", help="labels per image (default: 5)")
    SKIP_BAD_FILES.add_to(predict)
    predict.add_argument("images", nargs="+", help="image files")

    explain = add_predict_command(commands, _explain, "attention-rollout heatmap PNG of image files", name="explain",
                                  text=lambda results: [f"{r['input']}: {r['label']} {r['probability']:.3f} -> "
                                                        f"{r['heatmap']}" for r in results])
    explain.add_argument("--out", help="PNG file (one image) or folder (default: <image>_rollout.png here)")
    explain.add_argument("--head-fusion", choices=("mean", "max"), default="mean")
    explain.add_argument("images", nargs="+")

    add_export_command(commands, (TASK_NAME,), "vision",
                       help="write a SavedModel: image bytes in, top labels and probabilities out")
    return vision
