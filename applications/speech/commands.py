"""`keras-attn speech train|evaluate|predict|plot|export`: the speech family's commands.

    keras-attn speech train --data data/speech/keywords/train --out runs/kw           # classify
    keras-attn speech train --data data/speech/numbers/train.tsv --out runs/asr       # ctc (a manifest)
    keras-attn speech train --data data/speech/numbers/train.tsv --task transcribe --out runs/s2t
    keras-attn speech evaluate --model runs/kw --data data/speech/keywords/test --json
    keras-attn speech predict --model runs/asr clip.wav --json
    keras-attn speech plot --model runs/kw clip.wav --out clip.png
    keras-attn speech export --model runs/kw

Imports no TensorFlow (the help screens stay fast).
"""

from applications.skeleton.commands import (
    add_evaluate_command, add_export_command, add_predict_command, add_train_command, load_predictor,
)
import argparse

from applications.skeleton.flags import SKIP_BAD_FILES
from applications.speech.task import (
    CLASSIFY, CTC, TASK_FLAGS, TRANSCRIBE, SpeechClassificationTask, SpeechCTCTask, SpeechTranscriptionTask, task_for,
)

TASKS = {CLASSIFY: "applications.speech.predictor:SpeechClassifierPredictor",
         CTC: "applications.speech.predictor:CTCPredictor",
         TRANSCRIBE: "applications.speech.predictor:TranscriptionPredictor"}
CUSTOM_OBJECTS = "applications.speech.custom_objects"
ALL_TASKS = tuple(TASKS)
DATA_LAYOUT = ("--data is a folder with one subfolder of clips per class (classify: clips/<word>/*.wav|flac|ogg) or a "
               "CSV/TSV manifest of path,transcript lines, paths relative to it (ctc, transcribe). Clips are read as "
               "mono 16 kHz.")
AUGMENTATIONS = "speed,pitch,gain,noise,reverb"


def _predictor(args, command):
    return load_predictor(args, ALL_TASKS, f"speech {command}")


def _decoding(predictor, args, long_recordings=False):
    if predictor.task == CLASSIFY:
        return {}
    options = {"beam_width": args.beam_width}
    if predictor.task == TRANSCRIBE:
        options["length_penalty"] = args.length_penalty
    if long_recordings:
        options.update(overlap=args.overlap, min_silence=args.min_silence)
    return options


def _evaluate(args):
    predictor = _predictor(args, "evaluate")
    return predictor.evaluate(args.data, batch_size=args.batch_size, skip_bad_files=args.skip_bad_files,
                              **_decoding(predictor, args))


def _predict(args):
    predictor = _predictor(args, "predict")
    return predictor.predict(args.clips, batch_size=args.batch_size, skip_bad_files=args.skip_bad_files,
                             **_decoding(predictor, args, long_recordings=True))


def _add_decoding_flags(parser):
    parser.add_argument("--beam-width", type=int, metavar="N",
                        help="ctc, transcribe: beam search with this width (default: greedy)")
    parser.add_argument("--length-penalty", type=float, default=0.6, metavar="ALPHA",
                        help="transcribe: beam search's length penalty ((5 + length) / 6) ** ALPHA (default: 0.6)")


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
        commands, SpeechClassificationTask(), help="train a keyword classifier, a CTC recognizer or a transcriber",
        description=DATA_LAYOUT, task_factory=lambda args: task_for(args.data, args.task),
        variants={"--task classify": SpeechClassificationTask(), "--task ctc": SpeechCTCTask(),
                  "--task transcribe": SpeechTranscriptionTask()},
    )
    train.add_argument("--task", choices=sorted(TASK_FLAGS),
                       help="classify, ctc or transcribe (encoder-decoder); default: ctc for a manifest, classify "
                            "for a folder")
    train.add_argument("--max-seconds", type=float, metavar="S",
                       help="pad or cut clips to this length (default: 1.25 x the longest training clip)")
    train.add_argument("--no-spec-augment", dest="spec_augment", action="store_false", default=None,
                       help="train without SpecAugment")
    train.add_argument("--augment", metavar="LIST",
                       help=f"waveform augmentation on the fly, a comma-separated subset of {AUGMENTATIONS}, or none "
                            "(default: the task's, listed below; see applications/speech/augmentation.py)")
    train.add_argument("--normalize-features", action=argparse.BooleanOptionalAction, default=None,
                       help="normalise each clip's log-mels to zero mean and unit variance over its real frames "
                            "(default: the task's, listed below)")
    train.add_argument("--characters", help="ctc, transcribe: the vocabulary (default: a-z, apostrophe, space)")
    train.add_argument("--drop-unknown-characters", action="store_true", default=None,
                       help="ctc, transcribe: drop transcript characters outside the vocabulary instead of failing")
    train.add_argument("--tokenizer", choices=("characters", "sentencepiece"),
                       help="transcribe: decoder tokens (default: characters)")
    train.add_argument("--vocabulary-size", type=int, metavar="N",
                       help="transcribe --tokenizer sentencepiece: pieces to learn from the training transcripts")
    train.add_argument("--label-smoothing", type=float, metavar="EPS", help="transcribe: label smoothing (default: 0.1)")
    train.add_argument("--ctc-weight", type=float, metavar="W",
                       help="transcribe: add a CTC loss on the encoder, (1 - W) * attention + W * CTC (default: 0, off)")
    train.add_argument("--decoder-layers", type=int, metavar="N",
                       help="transcribe: decoder blocks (default: as many as the encoder)")

    evaluate = add_evaluate_command(commands, _evaluate,
                                    "accuracy (classify) or CER/WER (ctc, transcribe) of a trained run",
                                    description=DATA_LAYOUT)
    _add_decoding_flags(evaluate)

    predict = add_predict_command(commands, _predict, "label with probability, or transcript, of each clip (a "
                                  "recording longer than the model's length is transcribed in pieces)",
                                  text=_predict_text)
    _add_decoding_flags(predict)
    predict.add_argument("--overlap", type=float, default=1.0, metavar="S",
                         help="ctc, transcribe: seconds of overlap between the windows of long speech (default: 1.0)")
    predict.add_argument("--min-silence", type=float, default=0.25, metavar="S",
                         help="ctc, transcribe: a pause this long cuts a long recording (default: 0.25)")
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
