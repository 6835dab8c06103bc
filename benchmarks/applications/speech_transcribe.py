"""Speech: number-phrase CER/WER of transcription, CTC and hybrid after the same CPU budget,
and the speed of cached decoding against recomputing the prefix.

The speech is SYNTHETIC (espeak-ng and flite, see data/README.md): these numbers say
little about real recordings.

Quality: three contenders on the shipped number phrases (468 training clips of 63
espeak-ng voices), each built, fed and trained by the speech trainer's own task classes
(`applications.speech.task`: its data pipeline with SpecAugment, its model, its loss) with
the task's defaults, for the same wall-clock budget (`budget.py`: counted from the end of
the first step, warm-up + cosine planned over the budget, AdamW as the trainer's):

- `transcribe`: `SpeechToText` (encoder + decoder, characters, label smoothing 0.1);
- `ctc`: `CTCRecognizer` (the same encoder size with a CTC head);
- `transcribe --ctc-weight 0.3`: `SpeechToText` with a CTC head on the encoder, loss
  `0.7 * attention + 0.3 * CTC` (decoded with the attention decoder only).

Scored with corpus CER and WER, greedy decoding, on the 60 test clips (numbers and 14
espeak-ng voices never trained on) and on the 40 flite clips (another synthesizer's
voices).

Speed: `Transcriber`'s cached greedy decoding (the encoder once, cross-attention keys and
values once per clip, one new position per step against the self-attention cache) against
the same model and weights recomputing the whole prefix at every step (the decoder over
the fixed-size, causally masked token buffer, cross-attention projected again), 32 new
tokens (no end token), batch 8, each one `tf.function(jit_compile=True)` with the search
inside, from the encoder's output (decoding alone: the target) and end to end with the
encoder's one pass; medians of interleaved calls; for the trained transcriber and for a
model of Whisper-tiny's shape (random weights). Target: at least 5x.

    python benchmarks/applications/speech_transcribe.py --budget-seconds 300 --out runs/speech_transcribe.md
    python benchmarks/applications/speech_transcribe.py --quick     # seconds: checks the code runs
"""

import argparse
import logging
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from budget import BudgetCosineSchedule, fit_for_budget, machine_facts, progress_variable  # noqa: E402

LOG = logging.getLogger("keras_attn.bench.applications")

CONTENDERS = {
    "transcribe": ("transcribe", {}),
    "ctc": ("ctc", {}),
    "transcribe --ctc-weight 0.3": ("transcribe", {"ctc_weight": 0.3}),
    # Not in the default run (--only): the keyword task's robustness settings, for transcription.
    "transcribe --augment eq --normalize-features": ("transcribe", {"augment": "eq", "normalize_features": True}),
}
DEFAULT_CONTENDERS = ("transcribe", "ctc", "transcribe --ctc-weight 0.3")
QUICK = dict(hidden_dim=16, num_layers=1, num_heads=2, intermediate_dim=16, decoder_layers=1, limit=16,
             batch_size=8)
SPEED = dict(batch=8, new_tokens=32, repeats=9)
QUICK_SPEED = dict(batch=2, new_tokens=4, repeats=1)


class _OneDevice:
    """What `Task.read_data` asks of a `TrainingRun`: one replica."""

    num_replicas = 1

    @staticmethod
    def global_batch_size(batch_size):
        return batch_size


def _limited(path, limit):
    """The first `limit` lines of a manifest, as a new manifest (quick runs)."""
    if not limit:
        return str(path)
    lines = open(path, encoding="utf-8").read().splitlines()[:limit]
    out = os.path.join(tempfile.mkdtemp(prefix="speech_bench_"), os.path.basename(path))
    with open(out, "w", encoding="utf-8") as file:
        file.write("".join(f"{os.path.join(os.path.dirname(os.path.abspath(path)), line)}\n" for line in lines))
    return out


def train_contender(name, budget_seconds, quick=False):
    """Train one contender for the budget; returns `(predictor, training summary)`."""
    from applications import datasets
    from applications.skeleton.settings import resolve_settings
    from applications.speech.predictor import CTCPredictor, TranscriptionPredictor
    from applications.speech.task import task_for

    flag, overrides = CONTENDERS[name]
    task = task_for(None, flag)
    size = dict(QUICK) if quick else {}
    limit = size.pop("limit", None)
    data_path = _limited(datasets.speech_numbers_manifest("train"), limit)
    if flag == "ctc":
        size.pop("decoder_layers", None)
    settings = resolve_settings(task, data=data_path, out=tempfile.mkdtemp(prefix="speech_bench_run_"),
                                plot=False, **size, **overrides)
    keras.utils.set_random_seed(settings.seed)
    data = task.read_data(settings, _OneDevice())
    model = task.build_model(settings, data, None)
    loss, metrics = task.loss_and_metrics(settings, data)
    progress = progress_variable()
    optimizer = keras.optimizers.AdamW(
        BudgetCosineSchedule(settings.learning_rate, progress, warmup_fraction=0.1, alpha=0.05),
        weight_decay=settings.weight_decay)
    model.compile(optimizer=optimizer, loss=loss, loss_weights=task.loss_weights(settings, data), metrics=metrics,
                  jit_compile=not quick)  # --quick checks the code, without XLA's compile time
    LOG.info("speech numbers %s: %d parameters, %d clips, budget %.0f s.", name, model.count_params(),
             data.num_train_examples, budget_seconds)
    trained = fit_for_budget(model, data.train, budget_seconds, steps_per_epoch=data.steps_per_epoch,
                             progress=progress, out_dir=tempfile.mkdtemp(prefix="speech_bench_fit_"))
    trained["parameters"] = int(model.count_params())
    if flag == "ctc":
        return CTCPredictor(model), trained
    return TranscriptionPredictor(model, data.extras["tokenizer"]), trained


def run_quality(budget_seconds, quick=False, names=DEFAULT_CONTENDERS):
    from applications import datasets

    results = {}
    test_sets = {"test": datasets.speech_numbers_manifest("test"), "flite": datasets.speech_flite_numbers_manifest()}
    for name in names:
        predictor, trained = train_contender(name, budget_seconds, quick)
        scores = {}
        for split, manifest in test_sets.items():
            started = time.time()
            scores[split] = predictor.evaluate(_limited(manifest, 8 if quick else None))
            scores[split]["seconds"] = time.time() - started
        LOG.info("speech numbers %s: %s; %s", name, trained, scores)
        results[name] = dict(trained, scores=scores)
        if flag_of(name) == "transcribe" and not any("predictor" in result for result in results.values()):
            results[name]["predictor"] = predictor  # the first transcriber is timed
    return results


def flag_of(name):
    return CONTENDERS[name][0]


def _interleaved_medians(functions, repeats):
    """Median seconds of each function, the functions called in turn `repeats` times (after a
    compiling call each), so a change in the machine's load reaches all of them alike."""
    for function in functions.values():
        np.asarray(function())
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            started = time.perf_counter()
            np.asarray(function())
            times[name].append(time.perf_counter() - started)
    return {name: float(np.median(values)) for name, values in times.items()}


def run_speed(predictor, size, jit_compile=True):
    """Seconds per greedy generation of `new_tokens` tokens: cached vs recomputing the prefix,
    from the encoder's output (`decode`) and with the encoder's one pass (`end to end`)."""
    import tensorflow as tf
    from keras import ops

    from applications.speech.transcriber import Transcriber
    from keras_attn import generation

    model = predictor.model
    transcriber = Transcriber(model, predictor.tokenizer)
    max_length = len(transcriber.prompt_ids) + size["new_tokens"]
    transcriber.max_length = max_length  # a buffer of exactly the prompt and the new tokens
    batch = size["batch"]
    audio = np.random.default_rng(0).standard_normal((batch, model.max_samples)).astype("float32") * 0.1
    inputs = {"audio": tf.constant(audio), "sample_lengths": tf.fill([batch], model.max_samples)}
    embedding, decoder = transcriber.embedding, transcriber.decoder
    encoded = [tf.constant(x) for x in transcriber.encode(inputs)]  # (B, S, C), (B, S)

    def cached(steps, step_mask):
        cache = (decoder.initial_self_attention_cache(batch, max_length), decoder.compute_cross_attention_cache(steps),
                 step_mask)  # the cross-attention keys and values once
        return generation.greedy_search(transcriber.step_fn, transcriber.prompt(batch), cache, max_length=max_length,
                                        prefill_fn=transcriber.prefill_fn)

    def recomputed(steps, step_mask):
        def step(token_ids, tokens, index):
            tokens = ops.slice_update(tokens, [0, index], token_ids)  # the prefix so far
            hidden = decoder(embedding(tokens), steps, encoder_padding_mask=step_mask)  # every position again
            return embedding(ops.take(hidden, index, axis=1)[:, None], reverse=True)[:, 0], tokens

        return generation.greedy_search(step, transcriber.prompt(batch), ops.zeros((batch, max_length), "int32"),
                                        max_length=max_length)

    def end_to_end(search):
        return lambda: search(*transcriber.encode(inputs))

    compiled = {name: tf.function(function, jit_compile=jit_compile) for name, function in (
        ("cached", lambda: cached(*encoded)), ("recompute", lambda: recomputed(*encoded)),
        ("cached_end_to_end", end_to_end(cached)), ("recompute_end_to_end", end_to_end(recomputed)))}
    agreement = float(np.mean(np.asarray(compiled["cached"]()) == np.asarray(compiled["recompute"]())))
    seconds = _interleaved_medians(compiled, size["repeats"])
    return dict(seconds, speedup=seconds["recompute"] / seconds["cached"],
                speedup_end_to_end=seconds["recompute_end_to_end"] / seconds["cached_end_to_end"],
                agreement=agreement, **size)


def default_shaped(max_samples=52000, max_target_length=43):
    """A fresh `SpeechToText` of `--task transcribe`'s default size (random weights) and the
    character tokenizer: what the trained transcriber's speed is measured on with `--speed-only`."""
    from applications.skeleton.settings import resolve_settings
    from applications.speech.predictor import TranscriptionPredictor
    from applications.speech.sizes import SIZES
    from applications.speech.speech_encoder import SpeechEncoder
    from applications.speech.speech_to_text import SpeechToText
    from applications.speech.task import SpeechTranscriptionTask
    from applications.speech.transcript_tokenizer import CharacterTokenizer
    from keras_attn.layers import LogMelSpectrogram

    keras.utils.set_random_seed(0)
    settings = resolve_settings(SpeechTranscriptionTask(), data="-", out="-")
    dimensions = SIZES.decode(settings.size, hidden_dim=settings.hidden_dim)
    front_end = LogMelSpectrogram(num_mel_bins=80)
    encoder = SpeechEncoder(**dimensions, num_mel_bins=80, max_frames=front_end.num_frames(max_samples))
    tokenizer = CharacterTokenizer()
    model = SpeechToText(encoder, tokenizer.vocabulary_size, max_target_length, max_samples=max_samples,
                         front_end=front_end)
    return TranscriptionPredictor(model, tokenizer)


def whisper_tiny_shaped(predictor):
    """A fresh `SpeechToText` of Whisper-tiny's shape (width 384, 4 + 4 blocks, 6 heads, MLP
    1536; random weights, the trained transcriber's tokenizer, clip length and decoder length)."""
    from applications.speech.predictor import TranscriptionPredictor
    from applications.speech.sizes import SIZES
    from applications.speech.speech_encoder import SpeechEncoder
    from applications.speech.speech_to_text import SpeechToText
    from keras_attn.layers import LogMelSpectrogram

    keras.utils.set_random_seed(0)
    trained = predictor.model
    dimensions = SIZES.decode("whisper-tiny")
    front_end = LogMelSpectrogram(num_mel_bins=80)
    encoder = SpeechEncoder(**dimensions, num_mel_bins=80, max_frames=front_end.num_frames(trained.max_samples))
    model = SpeechToText(encoder, trained.vocabulary_size, trained.max_target_length,
                         decoder_layers=dimensions["num_layers"], max_samples=trained.max_samples, front_end=front_end)
    return TranscriptionPredictor(model, predictor.tokenizer)


def render(results, speeds, facts, budget_seconds, quick):
    lines = [f"- date: {facts['date']}; machine: {facts['machine']}; {facts['versions']}",
             f"- load average at start: {facts['load'][0]:.2f} / {facts['load'][1]:.2f} / {facts['load'][2]:.2f}",
             f"- command: `{facts['command']}`",
             f"- budget: {budget_seconds:g} s of training per contender (after its first step)"
             + ("; **--quick: tiny models, the numbers mean nothing**" if quick else "")]
    if results:
        lines += ["", "| contender | parameters | steps (epochs) | CER test | WER test | CER flite | WER flite |",
                  "|---|---|---|---|---|---|---|"]
    for name, result in results.items():
        test, flite = result["scores"]["test"], result["scores"]["flite"]
        lines.append(f"| {name} | {result['parameters']} | {result['steps']} ({result.get('epochs', 0):.0f}) | "
                     f"{test['cer']:.3f} | {test['wer']:.3f} | {flite['cer']:.3f} | {flite['wer']:.3f} |")
    if not speeds:
        return "\n".join(lines)
    first = next(iter(speeds.values()))
    lines += ["", f"Greedy decoding of {first['new_tokens']} new tokens (no end token), batch {first['batch']}, one XLA "
                  f"program each, median of {first['repeats']} interleaved calls; decoding from the encoder's output, "
                  "and end to end with the encoder's one pass (the same in both):", "",
              "| model | decoding: cached (ms) | recomputing the prefix (ms) | speed-up | end to end: cached / "
              "recomputing (ms) | speed-up | same tokens |", "|---|---|---|---|---|---|---|"]
    for name, speed in speeds.items():
        lines.append(f"| {name} | {speed['cached'] * 1000:.1f} | {speed['recompute'] * 1000:.1f} | "
                     f"**{speed['speedup']:.1f}x** | {speed['cached_end_to_end'] * 1000:.0f} / "
                     f"{speed['recompute_end_to_end'] * 1000:.0f} | {speed['speedup_end_to_end']:.1f}x | "
                     f"{speed['agreement']:.0%} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget-seconds", type=float, default=300.0)
    parser.add_argument("--quick", action="store_true", help="tiny models and data: checks the code runs")
    parser.add_argument("--out", help="also write the report here")
    parser.add_argument("--speed-only", action="store_true",
                        help="only the decoding speed, on fresh models of the default size and of Whisper-tiny's")
    parser.add_argument("--only", help=f"';'-separated contenders (default: {';'.join(DEFAULT_CONTENDERS)}; also: "
                                       f"{';'.join(sorted(set(CONTENDERS) - set(DEFAULT_CONTENDERS)))})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    facts = machine_facts()
    names = args.only.split(";") if args.only else DEFAULT_CONTENDERS
    unknown = sorted(set(names) - set(CONTENDERS))
    if unknown:
        parser.error(f"unknown contender(s) {unknown}; choose from {sorted(CONTENDERS)}")
    results = {} if args.speed_only else run_quality(args.budget_seconds, args.quick, names)
    timed = next((result.pop("predictor") for result in results.values() if "predictor" in result), None)
    if args.speed_only:
        timed = default_shaped()
    speeds = {}
    if timed is not None:
        size = QUICK_SPEED if args.quick else SPEED
        model = timed.model
        name = (f"{'the default size' if args.speed_only else 'the trained transcriber'} (width "
                f"{model.encoder.hidden_dim}, {model.encoder.num_layers} + {model.decoder_layers} blocks)")
        speeds[name] = run_speed(timed, size, not args.quick)
        if not args.quick:
            speeds["Whisper-tiny's shape (width 384, 4 + 4 blocks), random weights"] = run_speed(
                whisper_tiny_shaped(timed), size)
    text = render(results, speeds, facts, args.budget_seconds, args.quick)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as file:
            file.write(text + "\n")
        print(f"wrote {args.out}")
    return results, speeds


if __name__ == "__main__":  # pragma: no cover - manual runs
    main()
