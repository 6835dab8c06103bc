"""Every `train` command runs as a two-worker `MultiWorkerMirroredStrategy` job.

Each case starts the real `keras-attn <family> train` twice on localhost with `TF_CONFIG`
naming both workers and one shared `--out` (as a real job on shared storage). The strategy
must be resolved before the command reads any data (TensorFlow refuses to configure
collectives after its first op: "Collective ops must be configured at program startup",
which `vision train` hit when it scanned the image folder first). Both workers finish; the
run is one run of two replicas; only the chief writes the run folder.
"""

import json
import sys

import numpy as np
import pytest
from multi_worker import run_workers
from num2words import num2words

from applications import datasets

TINY = ["--num-layers", "1", "--hidden-dim", "16", "--num-heads", "2", "--intermediate-dim", "32",
        "--epochs", "1", "--checkpoint-every", "0", "--strategy", "multi-worker", "--json"]


def _digits(root):
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
    return datasets.save_image_folders(images, digits.target, [f"d{i}" for i in range(10)], root, 4)


def _pairs(root):
    path = root / "pairs.tsv"
    path.write_text("".join(f"{num2words(i)}\t{num2words(i, lang='fr')}\n" for i in range(48)), encoding="utf-8")
    return path


def _keywords(root):
    source = datasets.speech_keywords_dir() / "train"
    for word in ("yes", "no"):
        (root / word).mkdir(parents=True)
        for clip in sorted((source / word).iterdir())[:4]:
            (root / word / clip.name).symlink_to(clip)
    return root


def _english(root):
    path = root / "corpus.txt"
    path.write_text("\n".join(datasets.bible_english_text().splitlines()[:300]) + "\n", encoding="utf-8")
    return path


def _books(root):
    path = root / "books.tsv"
    rows = datasets.read_bible_books("train")
    by_label = {}
    for text, label in rows:
        by_label.setdefault(label, []).append(text)
    path.write_text("".join(f"{text}\t{label}\n" for label in sorted(by_label)[:2] for text in by_label[label][:16]),
                    encoding="utf-8")
    return path


def _number_phrases(root):
    manifest = datasets.speech_numbers_manifest("train")
    lines = manifest.read_text(encoding="utf-8").splitlines()[:8]
    path = root / "numbers.tsv"
    path.write_text("".join(f"{manifest.parent / clip}\t{text}\n" for clip, text in (line.split("\t") for line in lines)),
                    encoding="utf-8")
    return path


CASES = {
    "vision": lambda root: ["vision", "train", "--data", _digits(root / "digits"), "--size", "mu/2",
                            "--batch-size", "8", "--validation-fraction", "0.1"],
    "text": lambda root: ["text", "train", "--data", _pairs(root), "--batch-size", "8", "--max-length", "16",
                          "--vocabulary-size", "60"],
    "speech": lambda root: ["speech", "train", "--data", _keywords(root / "keywords"), "--batch-size", "2"],
    "speech-transcribe": lambda root: ["speech", "train", "--task", "transcribe", "--data", _number_phrases(root),
                                       "--batch-size", "2"],
    "gpt": lambda root: ["gpt", "train", "--data", _english(root), "--sequence-length", "16", "--batch-size", "4",
                         "--max-steps", "6"],
    "bert-pretrain": lambda root: ["bert", "pretrain", "--data", _english(root), "--sequence-length", "16",
                                   "--vocabulary-size", "200", "--batch-size", "4", "--max-steps", "6"],
    "bert-finetune": lambda root: ["bert", "finetune", "--data", _books(root), "--sequence-length", "16",
                                   "--vocabulary-size", "200", "--batch-size", "4"],
}


@pytest.mark.parametrize("family", sorted(CASES))
def test_train_command_as_two_workers(family, tmp_path):
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "applications.cli", *CASES[family](tmp_path), "--out", out, *TINY]
    results = run_workers([argv, argv], timeout=300)
    for returncode, output in results:
        assert returncode == 0, output[-4000:]
        assert "Collective ops must be configured" not in output
    summaries = [json.loads(output.strip().splitlines()[-1]) for _, output in results]
    assert [summary["num_replicas"] for summary in summaries] == [2, 2]
    assert summaries[0]["model"] == str(out / "model.keras") and summaries[1]["model"] is None
    info = json.loads((out / "run.json").read_text())
    assert info["summary"]["num_replicas"] == 2 and not (out / "training.json").exists()
