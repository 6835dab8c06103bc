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


class TrainedRuns:
    """Each architecture's run folder, trained once per session on first use.

    A cache rather than one fixture per architecture: pytest tears a parametrized session
    fixture (`architecture_dir`) down when its parameter changes, and with it the fixtures it
    had requested, which trained the same model again (about 100 s of the suite)."""

    def __init__(self, tmp_path_factory, numbers_file):
        self.tmp_path_factory, self.numbers_file, self.folders = tmp_path_factory, numbers_file, {}

    def get(self, architecture):
        if architecture not in self.folders:
            out = self.tmp_path_factory.mktemp(f"numbers_{architecture}") / "translator"
            argv = ["text", "train", "--data", str(self.numbers_file), "--out", str(out), *TRAIN_FLAGS,
                    *ARCHITECTURE_FLAGS[architecture]]
            assert cli.main(argv) == 0
            self.folders[architecture] = out
        return self.folders[architecture]


@pytest.fixture(scope="session")
def trained_runs(tmp_path_factory, numbers_file):
    return TrainedRuns(tmp_path_factory, numbers_file)


@pytest.fixture(scope="session")
def numbers_dir(trained_runs):
    """`keras-attn text train` (the Transformer, with --export) on 1000 number phrases."""
    return trained_runs.get("transformer")


@pytest.fixture(scope="session")
def t5_numbers_dir(trained_runs):
    return trained_runs.get("t5")


@pytest.fixture(scope="session")
def rnn_numbers_dir(trained_runs):
    return trained_runs.get("rnn")


@pytest.fixture(scope="session", params=ARCHITECTURES)
def architecture_dir(request, trained_runs):
    """`(architecture, run folder)` for each architecture in turn."""
    return request.param, trained_runs.get(request.param)


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
