"""`keras-attn speech train|evaluate|predict|plot|export`: the speech family's commands.

    keras-attn speech train --data data/speech/keywords/train --out runs/kw           # classify
    keras-attn speech train --data data/speech/numbers/train.tsv --out runs/asr       # ctc (a manifest)
    keras-attn speech evaluate --model runs/kw --data data/speech/keywords/test --json
    keras-attn speech predict --model runs/asr clip.wav --json
    keras-attn speech plot --model runs/kw clip.wav --out clip.png
    keras-attn speech export --model runs/kw

Imports no TensorFlow (the help screens stay fast).
"""

from applications.skeleton.commands import (
    add_evaluate_command, add_export_command, add_predict_command, add_train_command, load_predictor,
)
from applications.skeleton.flags import SKIP_BAD_FILES
from applications.speech.task import CLASSIFY, CTC, TASK_FLAGS, SpeechClassificationTask, SpeechCTCTask, task_for

TASKS = {CLASSIFY: "applications.speech.predictor:SpeechClassifierPredictor",
         CTC: "applications.speech.predictor:CTCPredictor"}
CUSTOM_OBJECTS = "applications.speech.custom_objects"
ALL_TASKS = tuple(TASKS)
DATA_LAYOUT = ("--data is a folder with one subfolder of clips per class (classify: clips/<word>/*.wav|flac|ogg) or a "
               "CSV/TSV manifest of path,transcript lines, paths relative to it (ctc). Clips are read as mono 16 kHz.")


def _predictor(args, command):
    return load_predictor(args, ALL_TASKS, f"speech {command}")


def _decoding(predictor, args):
    return {"beam_width": args.beam_width} if predictor.task == CTC else {}


def _evaluate(args):
    predictor = _predictor(args, "evaluate")
    return predictor.evaluate(args.data, batch_size=args.batch_size, skip_bad_files=args.skip_bad_files,
                              **_decoding(predictor, args))


def _predict(args):
    predictor = _predictor(args, "predict")
    return predictor.predict(args.clips, batch_size=args.batch_size, skip_bad_files=args.skip_bad_files,
                             **_decoding(predictor, args))


def _predict_text(results):
    return ["\t".join([r["input"], r["transcript"]] if "transcript" in r else
                      [r["input"], r["label"], f"{r['probability']:.3f}"]) for r in results]


def _plot(args):
    return {"picture": _predictor(args, "plot").plot(args.clip, args.out, layer_index=args.layer)}


def register(subparsers):
    """Add the `speech` command and its sub-commands to the `keras-attn` parser."""
    speech = subparsers.add_parser("speech", help="keyword classification and speech recognition from audio")
    commands = speech.add_subparsers(dest="speech_command", required=True, metavar="COMMAND")

    train = add_train_command(
        commands, SpeechClassificationTask(), help="train a keyword classifier or a CTC recognizer",
        description=DATA_LAYOUT, task_factory=lambda args: task_for(args.data, args.task),
        variants={"--task classify": SpeechClassificationTask(), "--task ctc": SpeechCTCTask()},
    )
    train.add_argument("--task", choices=sorted(TASK_FLAGS), help="default: ctc for a manifest, classify for a folder")
    train.add_argument("--max-seconds", type=float, metavar="S",
                       help="pad or cut clips to this length (default: 1.25 x the longest training clip)")
    train.add_argument("--no-spec-augment", dest="spec_augment", action="store_false", default=None,
                       help="train without SpecAugment")
    train.add_argument("--characters", help="ctc: the vocabulary (default: a-z, apostrophe, space)")
    train.add_argument("--drop-unknown-characters", action="store_true", default=None,
                       help="ctc: drop transcript characters outside the vocabulary instead of failing")

    evaluate = add_evaluate_command(commands, _evaluate, "accuracy (classify) or CER/WER (ctc) of a trained run",
                                    description=DATA_LAYOUT)
    evaluate.add_argument("--beam-width", type=int, metavar="N", help="ctc: beam search with this width (default: greedy)")

    predict = add_predict_command(commands, _predict, "label with probability, or transcript, of each clip",
                                  text=_predict_text)
    predict.add_argument("--beam-width", type=int, metavar="N", help="ctc: beam search with this width (default: greedy)")
    SKIP_BAD_FILES.add_to(predict)
    predict.add_argument("clips", nargs="+", help="audio files")

    plot = add_predict_command(commands, _plot, "log-mel spectrogram + attention picture of a clip", name="plot",
                               text=lambda result: [result["picture"]])
    plot.add_argument("clip")
    plot.add_argument("--out", required=True, help="PNG path")
    plot.add_argument("--layer", type=int, default=-1, help="encoder block (default: the last)")

    add_export_command(commands, ALL_TASKS, "speech",
                       help="write a SavedModel: 16 kHz waveforms and lengths in, label or transcript out")
    return speech
