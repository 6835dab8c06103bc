"""`keras-attn text train|evaluate|translate|attention|export`."""

import argparse
import json
import logging
import os
import sys

from applications.xla_option import add_no_xla_flag, jit_compile_from_args

logger = logging.getLogger(__name__)


def _train(args):
    from applications.text.export import SAVED_MODEL_DIR, export_saved_model
    from applications.text.train import train_translator

    translator, history = train_translator(
        args.data, args.out, size=args.size, epochs=args.epochs, batch_size=args.batch_size,
        max_length=args.max_length, vocabulary_size=args.vocabulary_size, num_layers=args.num_layers,
        hidden_dim=args.hidden_dim, num_heads=args.num_heads, intermediate_dim=args.intermediate_dim,
        dropout_rate=args.dropout_rate, norm_first=args.norm == "pre", share_embeddings=not args.separate_embeddings,
        tie_weights=not args.untied_output, label_smoothing=args.label_smoothing, warmup_steps=args.warmup_steps,
        validation_fraction=args.validation_fraction, test_fraction=args.test_fraction, strategy=args.strategy,
        mixed_precision=args.mixed_precision, seed=args.seed, checkpoint_every_steps=args.checkpoint_every,
        jit_compile=jit_compile_from_args(args),
    )
    if args.export:
        export_saved_model(translator, os.path.join(args.out, SAVED_MODEL_DIR))
    logger.info("Saved the translator to %s.", args.out)
    return 0


def _search_options(args):
    if args.beam_width:
        return "beam", {"beam_width": args.beam_width, "length_penalty_alpha": args.length_penalty_alpha}
    return "greedy", {}


def _evaluate(args):
    from applications.text.data import read_pairs
    from applications.text.evaluate import evaluate_translator
    from applications.text.translator import Translator

    translator = Translator.load(args.model)
    search, options = _search_options(args)
    results = evaluate_translator(translator, read_pairs(args.data), search=search, **options)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    else:
        print(f"BLEU {results['bleu']:.2f}  chrF {results['chrf']:.2f}  "
              f"exact match {results['exact_match']:.3f}  ({results['num_pairs']} pairs)")
    return 0


def _translate(args):
    from applications.text.translator import Translator

    sentences = args.sentences or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    translator = Translator.load(args.model)
    search, options = _search_options(args)
    for translation in translator.translate(sentences, search=search, **options):
        print(translation)
    return 0


def _attention(args):
    from applications.text.plots import plot_alignment
    from applications.text.translator import Translator

    translator = Translator.load(args.model)
    source, target, weights = translator.cross_attention(args.sentence)
    out = args.out or os.path.join(args.model, "attention.png")
    plot_alignment(source, target, weights, out, title=args.sentence[:60])
    logger.info("Saved the cross-attention heatmap to %s.", out)
    print(out)
    return 0


def _export(args):
    from applications.text.export import SAVED_MODEL_DIR, export_saved_model
    from applications.text.translator import Translator

    out = args.out or os.path.join(args.model, SAVED_MODEL_DIR)
    print(export_saved_model(Translator.load(args.model), out))
    return 0


def _add_search_flags(parser):
    parser.add_argument("--beam-width", type=int, default=0, help="beam search with this width (0: greedy)")
    parser.add_argument("--length-penalty-alpha", type=float, default=0.6)


def add_parser(subparsers):
    """Add `text` and its subcommands to the `keras-attn` parser."""
    from applications.text.sizes import SIZES

    text = subparsers.add_parser("text", help="translation: train, evaluate, translate, attention, export")
    commands = text.add_subparsers(dest="text_command", required=True)

    train = commands.add_parser("train", help="train a translator on a TSV of sentence pairs",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("--data", required=True, help="source<TAB>target per line (.tsv or .tsv.gz)")
    train.add_argument("--out", required=True, help="output folder (a second run resumes it)")
    train.add_argument("--size", default="small", choices=sorted(SIZES))
    train.add_argument("--num-layers", type=int)
    train.add_argument("--hidden-dim", type=int)
    train.add_argument("--num-heads", type=int)
    train.add_argument("--intermediate-dim", type=int)
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--batch-size", type=int, default=64, help="per replica")
    train.add_argument("--max-length", type=int, default=32, help="tokens per side")
    train.add_argument("--vocabulary-size", type=int, default=8000)
    train.add_argument("--dropout-rate", type=float, default=0.1)
    train.add_argument("--label-smoothing", type=float, default=0.1)
    train.add_argument("--warmup-steps", type=int, help="default: a fifth of the run, at most 4000")
    train.add_argument("--norm", choices=("pre", "post"), default="pre")
    train.add_argument("--separate-embeddings", action="store_true", help="separate source/target tables")
    train.add_argument("--untied-output", action="store_true", help="an output projection of its own")
    train.add_argument("--validation-fraction", type=float, default=0.05)
    train.add_argument("--test-fraction", type=float, default=0.0, help="held out into OUT/test.tsv")
    train.add_argument("--strategy", default="auto", choices=("auto", "default", "mirrored", "multi-worker", "tpu"))
    train.add_argument("--mixed-precision", choices=("float16", "bfloat16"))
    train.add_argument("--checkpoint-every", type=int, default=200, metavar="STEPS",
                       help="also checkpoint every STEPS optimizer steps, mid-epoch (resume after a crash)")
    add_no_xla_flag(train)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--export", action="store_true", help="also write OUT/saved_model")
    train.set_defaults(func=_train)

    evaluate = commands.add_parser("evaluate", help="BLEU and exact match on a TSV of pairs")
    evaluate.add_argument("--model", required=True, help="a translator folder")
    evaluate.add_argument("--data", required=True)
    evaluate.add_argument("--json", action="store_true", help="print one JSON document")
    _add_search_flags(evaluate)
    evaluate.set_defaults(func=_evaluate)

    translate = commands.add_parser("translate", help="translate sentences (arguments, or stdin lines)")
    translate.add_argument("--model", required=True)
    translate.add_argument("sentences", nargs="*")
    _add_search_flags(translate)
    translate.set_defaults(func=_translate)

    attention = commands.add_parser("attention", help="save the cross-attention heatmap of a translation")
    attention.add_argument("--model", required=True)
    attention.add_argument("sentence")
    attention.add_argument("--out", help="PNG path (default: MODEL/attention.png)")
    attention.set_defaults(func=_attention)

    export = commands.add_parser("export", help="write a SavedModel: strings in, translations out")
    export.add_argument("--model", required=True)
    export.add_argument("--out", help="default: MODEL/saved_model")
    export.set_defaults(func=_export)
    return text
