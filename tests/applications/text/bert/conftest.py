"""Shared fixtures of the BERT tests: a small real corpus (Bible verses), a synthetic keyword
task that a tiny classifier learns in seconds, and one pretraining run and one fine-tuning
run from it through the command line (session-scoped, trained once)."""

import json

import pytest
from bert_test_data import KEYWORDS, TINY, keyword_lines

from applications import cli, datasets

@pytest.fixture(scope="session")
def keyword_task():
    """`(keyword_lines, class names)` for tests that build their own data."""
    return keyword_lines, sorted(KEYWORDS.values())


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
