"""`keras-attn speech train|evaluate|predict|plot`.

    keras-attn speech train --data data/speech/keywords/train --task classify --out runs/kw
    keras-attn speech evaluate --model runs/kw --data data/speech/keywords/test --json
    keras-attn speech predict --model runs/kw clip.wav other.flac --json
    keras-attn speech plot --model runs/kw clip.wav --out clip.png

Logs go to stderr; stdout carries only results (one JSON document with --json).
"""

import contextlib
import json
import logging
import sys

from applications.speech.sizes import SIZES
from applications.xla_option import add_no_xla_flag, jit_compile_from_args

logger = logging.getLogger(__name__)


def add_parser(subparsers):
    """Add the `speech` command and its subcommands to the `keras-attn` parser."""
    speech = subparsers.add_parser("speech", help="keyword classification and speech recognition from audio")
    commands = speech.add_subparsers(dest="speech_command", required=True)

    train = commands.add_parser("train", help="train a keyword classifier or a CTC recognizer")
    train.add_argument("--data", required=True, help="folder of class subfolders (classify) or CSV/TSV manifest path,transcript (ctc)")
    train.add_argument("--task", choices=("classify", "ctc"), help="default: ctc for a manifest, classify for a folder")
    train.add_argument("--out", required=True, help="output folder (model.keras, history.csv, training_curve.png, attention.png)")
    train.add_argument("--validation-data", help="held-out folder or manifest scored after training")
    train.add_argument("--epochs", type=int, default=30)
    train.add_argument("--batch-size", type=int, default=16, help="per replica")
    train.add_argument("--size", default="tiny", choices=sorted(SIZES))
    train.add_argument("--num-layers", type=int, help="overrides the size")
    train.add_argument("--hidden-dim", type=int, help="overrides the size")
    train.add_argument("--num-heads", type=int, help="overrides the size")
    train.add_argument("--intermediate-dim", type=int, help="overrides the size")
    train.add_argument("--init", help="start from a trained speech model folder, or keras_hub:<whisper preset> (downloads)")
    train.add_argument("--learning-rate", type=float, default=2e-3)
    train.add_argument("--dropout-rate", type=float, default=0.1)
    train.add_argument("--max-seconds", type=float, help="pad/cut clips to this length (default: 1.25 x the longest training clip)")
    train.add_argument("--no-spec-augment", action="store_true", help="train without SpecAugment")
    train.add_argument("--characters", help="ctc vocabulary (default: a-z, apostrophe, space)")
    train.add_argument("--drop-unknown-characters", action="store_true", help="drop transcript characters outside the vocabulary instead of failing")
    train.add_argument("--skip-bad-files", action="store_true", help="skip unreadable/empty clips (logged) instead of failing")
    train.add_argument("--strategy", default="auto", help="auto|default|mirrored|multi-worker|tpu")
    train.add_argument("--mixed-precision", choices=("float16", "bfloat16"))
    train.add_argument("--checkpoint-every", type=int, default=100, metavar="STEPS",
                       help="also checkpoint every STEPS optimizer steps, mid-epoch (resume after a crash)")
    add_no_xla_flag(train)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--json", action="store_true", help="print the summary as JSON")
    train.set_defaults(func=_train)

    evaluate = commands.add_parser("evaluate", help="accuracy (classify) or CER/WER (ctc) of a trained model")
    evaluate.add_argument("--model", required=True, help="training output folder or .keras file")
    evaluate.add_argument("--data", required=True, help="folder of class subfolders or manifest")
    evaluate.add_argument("--batch-size", type=int, default=32)
    evaluate.add_argument("--beam-width", type=int, help="ctc: beam search with this width (default: greedy)")
    evaluate.add_argument("--skip-bad-files", action="store_true")
    evaluate.add_argument("--json", action="store_true", help="print one JSON document")
    evaluate.set_defaults(func=_evaluate)

    predict = commands.add_parser("predict", help="label with probability, or transcript, of each clip")
    predict.add_argument("--model", required=True, help="training output folder or .keras file")
    predict.add_argument("clips", nargs="+", help="audio files")
    predict.add_argument("--beam-width", type=int, help="ctc: beam search with this width (default: greedy)")
    predict.add_argument("--skip-bad-files", action="store_true")
    predict.add_argument("--json", action="store_true", help="print one JSON document (a list)")
    predict.set_defaults(func=_predict)

    plot = commands.add_parser("plot", help="log-mel spectrogram + attention picture of a clip")
    plot.add_argument("--model", required=True)
    plot.add_argument("clip")
    plot.add_argument("--out", required=True, help="PNG path")
    plot.add_argument("--layer", type=int, default=-1, help="encoder block (default: the last)")
    plot.set_defaults(func=_plot)
    return speech


def _train(args):
    from applications.speech.character_vocabulary import DEFAULT_CHARACTERS
    from applications.speech.train import train

    # Keras progress bars write to stdout; stdout is for results only.
    with contextlib.redirect_stdout(sys.stderr):
        summary = _train_from_args(args, train, DEFAULT_CHARACTERS)
    if args.json:
        print(json.dumps(summary))
    else:
        for key, value in summary.items():
            print(f"{key}: {value}")
    return 0


def _train_from_args(args, train, default_characters):
    return train(
        args.data, args.out, task=args.task, validation_data=args.validation_data, epochs=args.epochs,
        batch_size=args.batch_size, size=args.size, num_layers=args.num_layers, hidden_dim=args.hidden_dim,
        num_heads=args.num_heads, intermediate_dim=args.intermediate_dim, init=args.init,
        strategy=args.strategy, mixed_precision=args.mixed_precision, learning_rate=args.learning_rate,
        checkpoint_every_steps=args.checkpoint_every, jit_compile=jit_compile_from_args(args),
        max_seconds=args.max_seconds, spec_augment=not args.no_spec_augment, dropout_rate=args.dropout_rate,
        characters=args.characters or default_characters, drop_unknown_characters=args.drop_unknown_characters,
        skip_bad_files=args.skip_bad_files, seed=args.seed,
    )


def _evaluate(args):
    from applications.speech.evaluate import evaluate

    scores = evaluate(args.model, args.data, batch_size=args.batch_size, beam_width=args.beam_width,
                      skip_bad_files=args.skip_bad_files)
    if args.json:
        print(json.dumps(scores))
    else:
        for key, value in scores.items():
            print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    return 0


def _predict(args):
    from applications.speech.evaluate import predict

    results = predict(args.model, args.clips, beam_width=args.beam_width, skip_bad_files=args.skip_bad_files)
    if args.json:
        print(json.dumps(results))
    else:
        for result in results:
            if "transcript" in result:
                print(f"{result['input']}\t{result['transcript']}")
            else:
                print(f"{result['input']}\t{result['label']}\t{result['probability']:.3f}")
    return 0


def _plot(args):
    from applications.speech.data import load_audio
    from applications.speech.model_io import load_speech_model
    from applications.speech.plots import plot_log_mel_and_attention

    model = load_speech_model(args.model)
    clip = load_audio(args.clip)[: model.max_samples]
    print(plot_log_mel_and_attention(model, clip, args.out, title=args.clip, layer_index=args.layer))
    return 0
