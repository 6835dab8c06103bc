"""One tiny character GPT, trained once through the command line, and a tiny untrained one.

The trained run reads the first 20,000 characters of the shipped English Bible text; its
numbers mean nothing (30 steps of a one-block model of width 32): the tests check that
paths agree, never what it writes.
"""

import pytest

from applications import cli, datasets

TINY = ["--num-layers", "1", "--hidden-dim", "32", "--num-heads", "2", "--intermediate-dim", "64",
        "--sequence-length", "16", "--batch-size", "8", "--max-steps", "30", "--warmup-steps", "5",
        "--checkpoint-every", "0", "--strategy", "default"]


@pytest.fixture(scope="session")
def bible_text():
    text = datasets.bible_english_text()[:20_000]
    return text[: text.rfind("\n") + 1]


@pytest.fixture(scope="session")
def corpus_file(tmp_path_factory, bible_text):
    path = tmp_path_factory.mktemp("corpus") / "bible_en.txt"
    path.write_text(bible_text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def char_run(tmp_path_factory, corpus_file):
    """`keras-attn gpt train` of a tiny character model; returns the run folder."""
    out = tmp_path_factory.mktemp("gpt") / "char"
    assert cli.main(["gpt", "train", "--data", str(corpus_file), "--out", str(out), *TINY]) == 0
    return out


@pytest.fixture(scope="session")
def char_predictor(char_run):
    import applications

    return applications.load(char_run)


@pytest.fixture(scope="session")
def tiny_model():
    """A factory of small untrained GPT models: `tiny_model(vocabulary_size, sequence_length, positions)`."""
    return _tiny_model


def _tiny_model(vocabulary_size=12, sequence_length=8, positions="learned", seed=0):
    import keras

    from applications.text.gpt.model import GPTConfig, build_gpt_model

    keras.utils.set_random_seed(seed)
    config = GPTConfig(vocabulary_size=vocabulary_size, sequence_length=sequence_length, num_layers=2, hidden_dim=16,
                       num_heads=2, intermediate_dim=32, positions=positions)
    return build_gpt_model(config), config
