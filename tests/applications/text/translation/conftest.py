"""Tiny English -> French number translators, one per architecture, each trained once through
the command line.

Number phrases (`num2words`) are short and regular, so a one-layer model of width 64
learns them in tens of seconds on two CPU cores and translates held-out numbers exactly:
the test that the whole pipeline learns. The Transformer is the main fixture
(`numbers_dir`); `architecture_dir` gives each of transformer, t5 and rnn in turn (the RNN
needs more epochs: it learns these phrases more slowly per step).
"""

import pytest
from num2words import num2words

from applications import cli

ARCHITECTURES = ("transformer", "t5", "rnn")
TRAIN_FLAGS = [
    "--size", "tiny", "--num-layers", "1", "--hidden-dim", "64", "--num-heads", "4", "--intermediate-dim", "128",
    "--epochs", "15", "--batch-size", "32", "--max-length", "16", "--vocabulary-size", "200",
    "--dropout-rate", "0", "--label-smoothing", "0", "--warmup-steps", "100",
    "--validation-fraction", "0.05", "--test-fraction", "0.1", "--strategy", "default",
]
# Flags after TRAIN_FLAGS (later flags win).
ARCHITECTURE_FLAGS = {
    "transformer": ["--export"],
    "t5": ["--architecture", "t5", "--epochs", "25"],
    "rnn": ["--architecture", "rnn", "--epochs", "40"],
}


def number_pairs(count=1000):
    return [(num2words(i, lang="en"), num2words(i, lang="fr")) for i in range(count)]


@pytest.fixture(scope="session")
def numbers_file(tmp_path_factory):
    data = tmp_path_factory.mktemp("numbers_data") / "numbers_en_fr.tsv"
    data.write_text("".join(f"{en}\t{fr}\n" for en, fr in number_pairs()), encoding="utf-8")
    return data


def _train(tmp_path_factory, numbers_file, architecture):
    out = tmp_path_factory.mktemp(f"numbers_{architecture}") / "translator"
    argv = ["text", "train", "--data", str(numbers_file), "--out", str(out), *TRAIN_FLAGS,
            *ARCHITECTURE_FLAGS[architecture]]
    assert cli.main(argv) == 0
    return out


@pytest.fixture(scope="session")
def numbers_dir(tmp_path_factory, numbers_file):
    """`keras-attn text train` (the Transformer, with --export) on 1000 number phrases."""
    return _train(tmp_path_factory, numbers_file, "transformer")


@pytest.fixture(scope="session")
def t5_numbers_dir(tmp_path_factory, numbers_file):
    return _train(tmp_path_factory, numbers_file, "t5")


@pytest.fixture(scope="session")
def rnn_numbers_dir(tmp_path_factory, numbers_file):
    return _train(tmp_path_factory, numbers_file, "rnn")


@pytest.fixture(scope="session", params=ARCHITECTURES)
def architecture_dir(request):
    """`(architecture, run folder)` for each architecture in turn."""
    name = "numbers_dir" if request.param == "transformer" else f"{request.param}_numbers_dir"
    return request.param, request.getfixturevalue(name)


@pytest.fixture(scope="session")
def numbers_predictor(numbers_dir):
    import applications

    return applications.load(numbers_dir)


@pytest.fixture(scope="session")
def numbers_translator(numbers_predictor):
    return numbers_predictor.translator


@pytest.fixture(scope="session")
def architecture_translator(architecture_dir):
    """`(architecture, Translator)` of each architecture's run, loaded as every command loads it."""
    import applications

    architecture, folder = architecture_dir
    return architecture, applications.load(folder).translator
