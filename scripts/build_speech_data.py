"""Build the synthetic speech shipped in `data/speech/`: spoken keywords and number phrases.

All audio is SYNTHETIC: espeak-ng (Debian `espeak-ng`) speaks the text, sox (Debian `sox`)
resamples it to 16 kHz mono 16-bit and trims leading and trailing silence, and soundfile writes
FLAC. Results on it are results on synthetic speech and must be reported as such.

A second synthesizer, flite (Debian `flite`, CMU's diphone/clustergen voices: kal, kal16, awb,
rms, slt), speaks a small held-out set of voices UNLIKE every training voice (`flite/`): the
keywords and some test numbers, for measuring robustness to voices of another synthesizer. It
is never used for training.

Voices are an espeak-ng accent plus a voice variant (`-v en-gb-scotland+f2`); a voice id in file
names is `<accent>-<variant>`, e.g. `en-gb-scotland-f2`. Seven accents (`en` is espeak's British
English: `en-gb+<variant>` silently ignores the variant in espeak-ng 1.51, and `en-us-nyc` sounds
like `en-us` on these words) and eleven variants (m1-m7, f1-f4). Unseen speakers: the test split
uses only the variants in TEST_VARIANTS, the train split only the others, so no voice is in both.
Each clip draws one speed (words per minute) and one pitch (0-99) from SPEEDS and PITCHES.

Outputs (clips drawn with a fixed seed, so a rebuild writes the same files):
  keywords/<split>/<word>/<voice>_s<speed>_p<pitch>.flac
      KEYWORDS, each spoken by --keyword-train-per-word (train) and --keyword-test-per-word
      (test) distinct (voice, speed, pitch) combinations of its split.
  numbers/clips/<split><index>_<voice>_s<speed>_p<pitch>.flac and numbers/{train,test}.tsv
      random integers 0-999 read aloud; manifest lines are `path<TAB>transcript`, the path
      relative to the manifest, the transcript the num2words English words in lower-case letters,
      spaces and apostrophes ("four hundred and seventy three"). Train and test use disjoint
      numbers as well as disjoint voices.
  flite/keywords/<word>/<voice>_d<stretch>_f<f0>.flac and flite/numbers/{clips/,test.tsv}
      the keywords (--flite-keywords-per-word each) and test numbers (--flite-numbers, drawn
      from the test numbers) spoken by flite's five English voices, each clip with one
      duration stretch and one mean pitch (Hz) from FLITE_STRETCHES and FLITE_PITCHES.

Needs `num2words` (the dev extra) and the espeak-ng, flite and sox programs. The defaults are the shipped
sizes (a few MB); larger sets for benchmarks, e.g. every combination for every keyword:
  python scripts/build_speech_data.py --out-dir runs/speech_full \\
      --keyword-train-per-word 567 --keyword-test-per-word 126 \\
      --number-train 20000 --number-test 2000

Usage:
  python scripts/build_speech_data.py [--out-dir data/speech] [counts as above]
"""

import argparse
import itertools
import logging
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from build_number_phrases import spoken_transcript  # scripts/ is on sys.path when run

REPO = Path(__file__).resolve().parents[1]
SAMPLE_RATE = 16000
ACCENTS = (
    "en-us", "en", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029"
)
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4")
TEST_VARIANTS = ("m7", "f4")  # 7 accents x 2 = 14 test voices; 7 x 9 = 63 train voices
SPEEDS = (140, 170, 200)  # espeak-ng -s, words per minute (default 175)
PITCHES = (30, 50, 70)  # espeak-ng -p, 0-99 (default 50)
KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
MAX_NUMBER = 999
TEST_NUMBER_FRACTION = 0.2  # of 0-999, reserved for the test split
SEED = 1234
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")  # `flite -lv`; kal is 8 kHz (resampled)
FLITE_STRETCHES = (0.9, 1.0, 1.2)  # flite --setf duration_stretch
FLITE_PITCHES = {"slt": (170, 210)}  # --setf int_f0_target_mean (Hz); the male voices below
FLITE_MALE_PITCHES = (95, 125)
# Trim silence quieter than 0.1% of full scale from both ends (espeak pads ~0.1 s each side).
TRIM = ["silence", "1", "0.01", "0.1%", "reverse", "silence", "1", "0.01", "0.1%", "reverse"]


def voices(split):
    """Returns [(voice id, espeak-ng voice)] of a split: ("en-gb-x-rp-m3", "en-gb-x-rp+m3")."""
    variants = [v for v in VARIANTS if (v in TEST_VARIANTS) == (split == "test")]
    return [(f"{a}-{v}", f"{a}+{v}") for a in ACCENTS for v in variants]


def synthesize(text, espeak_voice, speed, pitch):
    """Returns int16 samples at SAMPLE_RATE of espeak-ng speaking `text`, silence trimmed."""
    wav = subprocess.run(
        ["espeak-ng", "-v", espeak_voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        check=True, capture_output=True,
    ).stdout
    return _to_samples(wav, f"{espeak_voice} {text!r}")


def synthesize_flite(text, voice, stretch, f0):
    """Returns int16 samples at SAMPLE_RATE of flite speaking `text`, silence trimmed."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "clip.wav"
        subprocess.run(
            ["flite", "-voice", voice, "--setf", f"duration_stretch={stretch}", "--setf",
             f"int_f0_target_mean={f0}", "-t", text, "-o", str(out)],
            check=True, capture_output=True,
        )
        return _to_samples(out.read_bytes(), f"flite {voice} {text!r}")


def _to_samples(wav, what):
    """16 kHz mono int16 samples of a WAV file's bytes, leading and trailing silence trimmed."""
    raw = subprocess.run(
        # -D: no dither, so a rebuild is byte-identical (and compresses better).
        ["sox", "-D", "-t", "wav", "-", "-t", "raw", "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16",
         "-e", "signed-integer", "-"] + TRIM,
        input=wav, check=True, capture_output=True,
    ).stdout
    samples = np.frombuffer(raw, dtype="<i2")
    if len(samples) < SAMPLE_RATE // 20:  # 50 ms: flite says "on" in ~0.1 s
        raise RuntimeError(f"{what}: only {len(samples)} samples")
    return samples


def write_flac(path, samples):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, samples, SAMPLE_RATE, format="FLAC", subtype="PCM_16", compression_level=1.0)


def _draw(rng, split, count):
    """Returns `count` distinct (voice id, espeak voice, speed, pitch) of a split."""
    combos = list(itertools.product(voices(split), SPEEDS, PITCHES))
    if count > len(combos):
        raise ValueError(f"{split} has only {len(combos)} combinations. Received: count={count}")
    return [(*combos[i][0], *combos[i][1:]) for i in rng.choice(len(combos), count, replace=False)]


def build_keywords(out_dir, per_word):
    """Writes the keyword clips; `per_word` maps split -> clips per word. Returns clip count."""
    rng = np.random.default_rng([SEED, 0])
    count = 0
    for word in KEYWORDS:
        for split in ("train", "test"):
            for voice_id, espeak_voice, speed, pitch in _draw(rng, split, per_word[split]):
                path = out_dir / split / word / f"{voice_id}_s{speed}_p{pitch}.flac"
                write_flac(path, synthesize(word, espeak_voice, speed, pitch))
                count += 1
    return count


def build_numbers(out_dir, counts):
    """Writes the number clips and manifests; `counts` maps split -> clips. Returns clip count."""
    rng = np.random.default_rng([SEED, 1])
    numbers = rng.permutation(MAX_NUMBER + 1)
    test_size = int(len(numbers) * TEST_NUMBER_FRACTION)
    pools = {"test": numbers[:test_size], "train": numbers[test_size:]}
    for split in ("train", "test"):
        lines = []
        pool = pools[split]
        for index in range(counts[split]):
            number = int(pool[index % len(pool)])  # each number once before any repeats
            voice_id, espeak_voice = voices(split)[rng.integers(len(voices(split)))]
            speed, pitch = int(rng.choice(SPEEDS)), int(rng.choice(PITCHES))
            transcript = spoken_transcript(number)
            path = Path("clips") / f"{split}{index:04d}_{voice_id}_s{speed}_p{pitch}.flac"
            write_flac(out_dir / path, synthesize(transcript, espeak_voice, speed, pitch))
            lines.append(f"{path.as_posix()}\t{transcript}\n")
        (out_dir / f"{split}.tsv").write_text("".join(lines), encoding="utf-8")
    return sum(counts.values())


def _flite_draw(rng, count):
    """`count` distinct (voice, stretch, f0) combinations of flite."""
    combos = [(voice, stretch, f0) for voice in FLITE_VOICES for stretch in FLITE_STRETCHES
              for f0 in FLITE_PITCHES.get(voice, FLITE_MALE_PITCHES)]
    if count > len(combos):
        raise ValueError(f"flite has only {len(combos)} combinations. Received: count={count}")
    return [combos[i] for i in rng.choice(len(combos), count, replace=False)]


def build_flite(out_dir, counts):
    """Writes the flite keywords and test numbers (voices unlike every training voice)."""
    rng = np.random.default_rng([SEED, 2])
    count = 0
    for word in KEYWORDS:
        for voice, stretch, f0 in _flite_draw(rng, counts["keywords_per_word"]):
            path = out_dir / "keywords" / word / f"{voice}_d{stretch}_f{f0}.flac"
            write_flac(path, synthesize_flite(word, voice, stretch, f0))
            count += 1
    numbers = np.random.default_rng([SEED, 1]).permutation(MAX_NUMBER + 1)  # the test pool of build_numbers
    test_pool = numbers[: int(len(numbers) * TEST_NUMBER_FRACTION)]
    lines = []
    for index in range(counts["numbers"]):
        number = int(test_pool[-1 - index])  # from the end of the pool: other numbers than the first test clips
        voice, stretch, f0 = _flite_draw(rng, 1)[0]
        transcript = spoken_transcript(number)
        path = Path("clips") / f"test{index:04d}_{voice}_d{stretch}_f{f0}.flac"
        write_flac(out_dir / "numbers" / path, synthesize_flite(transcript, voice, stretch, f0))
        lines.append(f"{path.as_posix()}\t{transcript}\n")
        count += 1
    (out_dir / "numbers" / "test.tsv").write_text("".join(lines), encoding="utf-8")
    return count


def _size(folder):
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out-dir", type=Path, default=REPO / "data/speech")
    parser.add_argument("--keyword-train-per-word", type=int, default=32)
    parser.add_argument("--keyword-test-per-word", type=int, default=8)
    parser.add_argument("--number-train", type=int, default=468)
    parser.add_argument("--number-test", type=int, default=60)
    parser.add_argument("--flite-keywords-per-word", type=int, default=8)
    parser.add_argument("--flite-numbers", type=int, default=40)
    parser.add_argument("--only", choices=("keywords", "numbers", "flite"), action="append",
                        help="build only these sets (repeatable; default: all)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    for name, build, counts in (
        ("keywords", build_keywords,
         {"train": args.keyword_train_per_word, "test": args.keyword_test_per_word}),
        ("numbers", build_numbers, {"train": args.number_train, "test": args.number_test}),
        ("flite", build_flite, {"keywords_per_word": args.flite_keywords_per_word, "numbers": args.flite_numbers}),
    ):
        if args.only and name not in args.only:
            continue
        start = time.time()
        folder = args.out_dir / name
        shutil.rmtree(folder, ignore_errors=True)  # no stale clips from an earlier build
        clips = build(folder, counts)
        logging.info(
            "wrote %d clips under %s: %d bytes (%.1f s)",
            clips, folder, _size(folder), time.time() - start,
        )


if __name__ == "__main__":
    main()
