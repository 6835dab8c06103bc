"""Shared fixtures of the BERT tests: a small real corpus (Bible verses), a synthetic keyword
task that a tiny classifier learns in seconds, and one pretraining run and one fine-tuning
run from it through the command line (session-scoped, trained once)."""

import json
import random

import pytest

from applications import cli, datasets

TINY = ["--size", "nano", "--num-layers", "1", "--hidden-dim", "32", "--num-heads", "2",
        "--intermediate-dim", "64", "--sequence-length", "24", "--batch-size", "16", "--checkpoint-every", "0"]
KEYWORDS = {"alpha": "first", "beta": "second", "gamma": "third"}
FILLERS = "the light of day and night over water land tree stone river bread house fire cloud".split()

def keyword_lines(count, seed):
    """`text<TAB>label` lines: six filler words and one keyword at a random place; the keyword
    decides the label (chance: one in three)."""
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        keyword = rng.choice(sorted(KEYWORDS))
        words = [rng.choice(FILLERS) for _ in range(6)]
        words.insert(rng.randrange(7), keyword)
        lines.append(f"{' '.join(words)}\t{KEYWORDS[keyword]}")
    return lines

@pytest.fixture(scope="session")
def keyword_task():
    """`(keyword_lines, class names)` for tests that build their own data."""
    return keyword_lines, sorted(KEYWORDS.values())


def run_cli(capsys, *argv):
    """`keras-attn ARGV --json`: the parsed JSON result (exit status 0 asserted)."""
    code = cli.main([*argv, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-3000:]
    return json.loads(captured.out)

@pytest.fixture(scope="session")
def bert_files(tmp_path_factory):
    """`{"corpus", "train", "test"}` paths: 600 verses, and the keyword task (480 / 120 lines)."""
    folder = tmp_path_factory.mktemp("bert_data")
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(datasets.bible_english_text().splitlines()[:600]) + "\n", encoding="utf-8")
    train, test = folder / "train.tsv", folder / "test.tsv"
    train.write_text("\n".join(keyword_lines(480, seed=0)) + "\n", encoding="utf-8")
    test.write_text("\n".join(keyword_lines(120, seed=1)) + "\n", encoding="utf-8")
    return {"corpus": corpus, "train": train, "test": test}

@pytest.fixture(scope="session")
def pretrained(bert_files, tmp_path_factory):
    """`(run folder, summary)` of a tiny `bert pretrain` (30 steps)."""

    out = tmp_path_factory.mktemp("bert_pretrain") / "run"
    code = cli.main(["bert", "pretrain", "--data", str(bert_files["corpus"]), "--out", str(out), *TINY,
                     "--vocabulary-size", "400", "--max-steps", "30", "--json"])
    assert code == 0
    return out, json.loads((out / "run.json").read_text())

@pytest.fixture(scope="session")
def finetuned(bert_files, pretrained, tmp_path_factory):
    """`(run folder, run.json)` of `bert finetune --init <pretrained>` on the keyword task."""
    out = tmp_path_factory.mktemp("bert_finetune") / "run"
    code = cli.main(["bert", "finetune", "--data", str(bert_files["train"]), "--out", str(out), "--init",
                     str(pretrained[0]), *TINY, "--epochs", "4", "--learning-rate", "3e-3", "--json"])
    assert code == 0
    return out, json.loads((out / "run.json").read_text())
