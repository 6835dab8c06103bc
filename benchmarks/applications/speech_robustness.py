"""Speech: which augmentation makes a keyword model robust to voices unlike its training voices.

The speech is SYNTHETIC: espeak-ng voices for training and for the usual test split, and a
second synthesizer, flite, for voices unlike every training voice (data/README.md). Each
setting trains the keyword classifier with the speech trainer itself
(`applications.speech.train(task="classify", ...)`: the task's defaults, the `tiny`
encoder, 15 epochs of 16 clips on the 320 shipped training clips) plus one augmentation
(`--augment NAME`) or per-utterance feature normalisation (`--normalize-features`), for
each seed, and scores it on

- `espeak test`: the 80 test clips of 14 espeak-ng voices never heard in training;
- `flite`: the 80 keyword clips of flite's five voices (`data/speech/flite/keywords`).

Accuracy is the mean over the seeds (each seed changes the weights, the order and the
augmentation draws). The result decides the trainer's defaults: an augmentation is on by
default only when it raises the flite accuracy by more than the seed spread without
lowering the espeak-ng one by more than its own spread. (Measured: only `eq` with
`normalize` did, see benchmarks/APPLICATIONS.md; `SETTINGS` list what was tried, with the
classifier's defaults of the time, no augmentation and no normalisation, as `none`.)

Usage (about 1-1.5 min per run on a 2-core CPU):
    python benchmarks/applications/speech_robustness.py --seeds 0 1 --out runs/robustness.md
    python benchmarks/applications/speech_robustness.py --only none,speed+noise --seeds 0 --epochs 2   # quick
"""

import argparse
import json
import logging
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from budget import machine_facts  # noqa: E402

LOG = logging.getLogger("keras_attn.bench.applications")

SETTINGS = {
    "none": dict(augment="none", normalize_features=False),
    "speed": dict(augment="speed", normalize_features=False),
    "pitch": dict(augment="pitch", normalize_features=False),
    "gain": dict(augment="gain", normalize_features=False),
    "noise": dict(augment="noise", normalize_features=False),
    "eq": dict(augment="eq", normalize_features=False),
    "reverb": dict(augment="reverb", normalize_features=False),
    "normalize": dict(augment="none", normalize_features=True),
    "speed,pitch,gain,noise,reverb": dict(augment="speed,pitch,gain,noise,reverb", normalize_features=False),
}  # any other name is an --augment list, plus `normalize` for --normalize-features (speed+noise+normalize)


def _setting(name):
    """`"speed,eq,normalize"` -> `--augment speed,eq --normalize-features`."""
    parts = name.split(",")
    augment = ",".join(part for part in parts if part != "normalize") or "none"
    return dict(augment=augment, normalize_features="normalize" in parts)


def run_one(name, seed, epochs=None, out_dir=None):
    """Train one setting with one seed; returns its accuracies and timing."""
    import applications
    from applications import datasets, speech

    out = os.path.join(out_dir or tempfile.mkdtemp(prefix="speech_robustness_"), f"{name}_seed{seed}")
    keywords = datasets.speech_keywords_dir()
    started = time.time()
    overrides = dict(SETTINGS[name]) if name in SETTINGS else _setting(name)
    if epochs:
        overrides["epochs"] = epochs
    summary = speech.train(data=str(keywords / "train"), out=out, task="classify", seed=seed, plot=False,
                           strategy="default", verbose=0, **overrides)
    predictor = applications.load(out)
    espeak = predictor.evaluate(keywords / "test")["accuracy"]
    flite = predictor.evaluate(datasets.speech_flite_keywords_dir())["accuracy"]
    result = dict(setting=name, seed=seed, espeak_test=espeak, flite=flite, steps=summary["steps"],
                  train_seconds=summary["train_seconds"], wall_seconds=round(time.time() - started, 1))
    LOG.info("%s", json.dumps(result))
    return result


def table(results):
    """Markdown rows: one per setting, the mean over seeds (and each seed's flite accuracy)."""
    import numpy as np

    rows = ["| setting | espeak-ng test voices (80 clips) | flite voices (80 clips) | flite per seed | train s per run |",
            "|---|---|---|---|---|"]
    for name in dict.fromkeys(result["setting"] for result in results):
        mine = [result for result in results if result["setting"] == name]
        espeak = np.mean([result["espeak_test"] for result in mine])
        flite = [result["flite"] for result in mine]
        seconds = np.mean([result["train_seconds"] for result in mine])
        rows.append(f"| {name} | {espeak:.3f} | {np.mean(flite):.3f} | {' / '.join(f'{v:.3f}' for v in flite)} | "
                    f"{seconds:.0f} |")
    return "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated settings (default: all); an --augment list is a setting too, "
                                       "written with '+' (none,speed+noise)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, help="default: the task's (15)")
    parser.add_argument("--out", help="also write the table (and the raw results as JSON next to it)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    names = [name.replace("+", ",") for name in args.only.split(",")] if args.only else list(SETTINGS)
    facts = machine_facts()
    results = [run_one(name, seed, args.epochs) for name in names for seed in args.seeds]
    text = "\n".join([
        f"- date: {facts['date']}; machine: {facts['machine']}; {facts['versions']}",
        f"- command: `{facts['command']}`",
        "",
        table(results),
    ])
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as file:
            file.write(text + "\n")
        with open(os.path.splitext(args.out)[0] + ".json", "w", encoding="utf-8") as file:
            json.dump(results, file, indent=1)
        print(f"wrote {args.out}")
    return results


if __name__ == "__main__":  # pragma: no cover - manual runs
    main()
