"""`keras-attn vision train|evaluate|predict|explain`.

Logs and progress bars go to stderr; stdout carries only results (one JSON
document with `--json`).
"""

import contextlib
import json
import logging
import os
import sys

from applications.xla_option import add_no_xla_flag, jit_compile_from_args

logger = logging.getLogger(__name__)


def _image_size(text):
    """`"224"` -> 224, `"160x224"` -> (160, 224)."""
    parts = text.lower().split("x")
    try:
        values = [int(part) for part in parts]
    except ValueError:
        raise ValueError(f"--image-size takes N or HxW. Received: {text!r}") from None
    return values[0] if len(values) == 1 else tuple(values)


def _train(args):
    from applications.vision.train import TrainConfig, train

    config = TrainConfig(
        data=args.data,
        out=args.out,
        size=args.size,
        image_size=args.image_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        init=args.init,
        freeze_backbone=args.freeze_backbone,
        num_layers=args.num_layers,
        hidden_dim=args.hidden_dim,
        num_heads=args.num_heads,
        mlp_dim=args.mlp_dim,
        patch_size=args.patch_size,
        pooling=args.pooling,
        dropout_rate=args.dropout,
        stochastic_depth_rate=args.stochastic_depth,
        learning_rate=args.learning_rate,
        weight_decay=args.weight_decay,
        validation_split=args.validation_split,
        augment=not args.no_augment,
        flip=not args.no_flip,
        skip_corrupt=args.skip_corrupt,
        strategy=args.strategy,
        mixed_precision=args.mixed_precision,
        checkpoint_every_steps=args.checkpoint_every,
        jit_compile=jit_compile_from_args(args),
        seed=args.seed,
    )
    with contextlib.redirect_stdout(sys.stderr):  # progress bars to stderr
        results = train(config)
    summary = {key: value for key, value in results.items() if key not in ("losses", "class_names")}
    print(json.dumps(summary) if args.json else "\n".join(f"{key}: {value}" for key, value in summary.items()))
    return 0


def _evaluate(args):
    from applications.vision.evaluate import evaluate

    out = args.out or (args.model if os.path.isdir(args.model) else os.path.dirname(args.model) or ".")
    with contextlib.redirect_stdout(sys.stderr):
        results = evaluate(args.model, args.data, out_dir=out, batch_size=args.batch_size, skip_corrupt=args.skip_corrupt)
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"accuracy: {results['accuracy']:.4f}")
    print(f"top5_accuracy: {results['top5_accuracy']:.4f}")
    print(f"num_examples: {results['num_examples']}")
    print("per-class accuracy:")
    for name, accuracy in results["per_class_accuracy"].items():
        print(f"  {name}: {accuracy:.4f}")
    print(f"confusion matrix: {results['confusion_matrix_png']}")
    return 0


def _predict(args):
    from applications.vision.predict import predict

    with contextlib.redirect_stdout(sys.stderr):
        results = predict(args.model, args.images, top_k=args.top_k)
    if args.json:
        print(json.dumps(results))
        return 0
    for result in results:
        ranked = ", ".join(f"{item['label']} {item['probability']:.3f}" for item in result["top_k"])
        print(f"{result['input']}: {ranked}")
    return 0


def _explain(args):
    from applications.vision.explain import explain

    if args.out and len(args.images) > 1:
        os.makedirs(args.out, exist_ok=True)
    results = []
    with contextlib.redirect_stdout(sys.stderr):
        for path in args.images:
            stem = os.path.splitext(os.path.basename(path))[0] + "_rollout.png"
            out = os.path.join(args.out, stem) if args.out else stem
            if args.out and len(args.images) == 1 and args.out.lower().endswith(".png"):
                out = args.out
            results.append(explain(args.model, path, out, head_fusion=args.head_fusion))
    for result in results:
        result.pop("relevance")
    if args.json:
        print(json.dumps(results))
        return 0
    for result in results:
        print(f"{result['input']}: {result['label']} {result['probability']:.3f} -> {result['heatmap']}")
    return 0


def _run(handler):
    """Run a handler; user errors become one line on stderr and exit status 2."""

    def run(args):
        from applications.vision.data import ImageFolderError

        try:
            return handler(args)
        except (ImageFolderError, FileNotFoundError, ValueError) as error:
            logger.error("%s", error)
            return 2

    return run


def add_parser(subparsers):
    """Add `vision` and its subcommands to the `keras-attn` parser."""
    vision = subparsers.add_parser("vision", help="Vision Transformers on folders of images")
    commands = vision.add_subparsers(dest="vision_command", required=True)

    train = commands.add_parser("train", help="train or fine-tune a ViT on DIR/<class>/*.png|jpg|...")
    train.add_argument("--data", required=True, help="folder with one subfolder of images per class")
    train.add_argument("--out", required=True, help="output folder (model.keras, history.csv, curves)")
    train.add_argument("--size", default="S/16", help="named size VARIANT/PATCH: mu, Ti, S, M, B, L, H (default S/16)")
    train.add_argument("--image-size", type=_image_size, help="N or HxW (default: the folder's, or --init's)")
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--batch-size", type=int, default=32, help="per replica")
    train.add_argument("--init", help="saved model (.keras or out folder) whose backbone starts this task")
    train.add_argument("--freeze-backbone", action="store_true", help="train the new head only")
    for flag, meaning in (
        ("--num-layers", "encoder blocks"),
        ("--hidden-dim", "token width"),
        ("--num-heads", "attention heads"),
        ("--mlp-dim", "feed-forward width"),
        ("--patch-size", "patch size"),
    ):
        train.add_argument(flag, type=int, help=f"{meaning} (overrides --size)")
    train.add_argument("--pooling", choices=("token", "gap"), default="token")
    train.add_argument("--dropout", type=float, default=0.0)
    train.add_argument("--stochastic-depth", type=float, default=0.1)
    train.add_argument("--learning-rate", type=float, default=1e-3)
    train.add_argument("--weight-decay", type=float, default=0.05)
    train.add_argument("--validation-split", type=float, default=0.1)
    train.add_argument("--no-augment", action="store_true", help="no random flip/shift/zoom")
    train.add_argument("--no-flip", action="store_true", help="augment without horizontal flips")
    train.add_argument("--skip-corrupt", action="store_true", help="leave unreadable images out (logged)")
    train.add_argument("--strategy", default="auto", choices=("auto", "default", "mirrored", "multi-worker", "tpu"))
    train.add_argument("--mixed-precision", choices=("float16", "bfloat16"))
    train.add_argument("--checkpoint-every", type=int, default=100, metavar="STEPS",
                       help="also checkpoint every STEPS optimizer steps, mid-epoch (resume after a crash)")
    add_no_xla_flag(train)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--json", action="store_true", help="print the results as one JSON document")
    train.set_defaults(func=_run(_train))

    evaluate = commands.add_parser("evaluate", help="accuracy, per-class accuracy, confusion matrix PNG")
    evaluate.add_argument("--model", required=True, help="saved model (.keras or training out folder)")
    evaluate.add_argument("--data", required=True, help="folder with one subfolder of images per class")
    evaluate.add_argument("--out", help="where to write confusion_matrix.png (default: the model's folder)")
    evaluate.add_argument("--batch-size", type=int, default=64)
    evaluate.add_argument("--skip-corrupt", action="store_true")
    evaluate.add_argument("--json", action="store_true", help="print one JSON document")
    evaluate.set_defaults(func=_run(_evaluate))

    predict = commands.add_parser("predict", help="top-k labels of image files")
    predict.add_argument("--model", required=True)
    predict.add_argument("--top-k", type=int, default=5)
    predict.add_argument("--json", action="store_true", help="print one JSON document (a list, one object per image)")
    predict.add_argument("images", nargs="+")
    predict.set_defaults(func=_run(_predict))

    explain = commands.add_parser("explain", help="attention-rollout heatmap PNG of image files")
    explain.add_argument("--model", required=True)
    explain.add_argument("--out", help="PNG file (one image) or folder (default: <image>_rollout.png here)")
    explain.add_argument("--head-fusion", choices=("mean", "max"), default="mean")
    explain.add_argument("--json", action="store_true")
    explain.add_argument("images", nargs="+")
    explain.set_defaults(func=_run(_explain))
    return vision
