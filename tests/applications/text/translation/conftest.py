"""One tiny English -> French number translator, trained once through the command line.

Number phrases (`num2words`) are short and regular, so a one-layer model of
width 64 learns them in ~30 s on two CPU cores and translates held-out numbers
exactly: the test that the whole pipeline learns.
"""

import pytest
from num2words import num2words

from applications import cli

TRAIN_FLAGS = [
    "--size", "tiny", "--num-layers", "1", "--hidden-dim", "64", "--num-heads", "4", "--intermediate-dim", "128",
    "--epochs", "15", "--batch-size", "32", "--max-length", "16", "--vocabulary-size", "200",
    "--dropout-rate", "0", "--label-smoothing", "0", "--warmup-steps", "100",
    "--validation-fraction", "0.05", "--test-fraction", "0.1", "--strategy", "default", "--export",
]


def number_pairs(count=1000):
    return [(num2words(i, lang="en"), num2words(i, lang="fr")) for i in range(count)]


@pytest.fixture(scope="session")
def numbers_dir(tmp_path_factory):
    """`keras-attn text train` on 1000 number phrases; returns the output folder."""
    root = tmp_path_factory.mktemp("numbers")
    data = root / "numbers_en_fr.tsv"
    data.write_text("".join(f"{en}\t{fr}\n" for en, fr in number_pairs()), encoding="utf-8")
    out = root / "translator"
    assert cli.main(["text", "train", "--data", str(data), "--out", str(out), *TRAIN_FLAGS]) == 0
    return out


@pytest.fixture(scope="session")
def numbers_predictor(numbers_dir):
    import applications

    return applications.load(numbers_dir)


@pytest.fixture(scope="session")
def numbers_translator(numbers_predictor):
    return numbers_predictor.translator
