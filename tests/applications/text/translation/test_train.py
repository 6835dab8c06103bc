"""Training: each architecture learns number phrases; the run's files and its recorded
architecture; MirroredStrategy parity."""

import json
import shutil
import subprocess
import sys
import textwrap

import pytest

import applications
from applications import cli

# Held-out exact match each architecture must reach (rates with a margin; see conftest.py).
MIN_EXACT_MATCH = {"transformer": 0.9, "t5": 0.8, "rnn": 0.8}
DECODINGS = {"transformer": "TransformerDecoding", "t5": "T5Decoding", "rnn": "RecurrentDecoding"}


def test_each_architecture_learns_number_phrases(architecture_dir, capsys):
    architecture, folder = architecture_dir
    capsys.readouterr()
    assert cli.main(["text", "evaluate", "--model", str(folder), "--data", str(folder / "test.tsv"), "--json"]) == 0
    results = json.loads(capsys.readouterr().out)  # stdout is exactly one JSON document
    assert results["num_pairs"] == 100  # held-out numbers, never seen in training
    assert results["exact_match"] >= MIN_EXACT_MATCH[architecture], results["samples"]
    assert results["bleu"] >= 100 * MIN_EXACT_MATCH[architecture]


def test_the_architecture_is_recorded_and_loaded(architecture_dir):
    architecture, folder = architecture_dir
    info = json.loads((folder / "run.json").read_text())
    assert info["model_config"]["architecture"] == architecture == info["training"]["architecture"]
    # Every later command loads through applications.load, which decodes with that architecture.
    assert type(applications.load(folder).translator.decoding).__name__ == DECODINGS[architecture]


def test_a_run_recorded_before_architectures_is_a_transformer(numbers_dir, numbers_predictor, tmp_path):
    old = tmp_path / "old_run"
    old.mkdir()
    for name in ("model.keras", "tokenizer.model"):
        shutil.copy(numbers_dir / name, old / name)
    info = json.loads((numbers_dir / "run.json").read_text())
    del info["model_config"]["architecture"], info["model_config"]["rnn_cell"]
    (old / "run.json").write_text(json.dumps(info))
    loaded = applications.load(old)
    assert type(loaded.translator.decoding).__name__ == "TransformerDecoding"
    assert loaded.translate(["twelve", "forty-one"]) == numbers_predictor.translate(["twelve", "forty-one"])


def test_run_writes_its_records(numbers_dir):
    for name in ("model.keras", "tokenizer.model", "run.json", "history.csv", "training_curve.png",
                 "test.tsv", "checkpoints", "saved_model"):
        assert (numbers_dir / name).exists(), name
    assert not (numbers_dir / "training.json").exists()  # finished: the in-progress marker is gone
    history = (numbers_dir / "history.csv").read_text().splitlines()
    assert len(history) == 16 and "val_loss" in history[0]  # header + 15 epochs, with validation
    info = json.loads((numbers_dir / "run.json").read_text())
    assert info["task"] == "translation" and info["model_config"]["num_layers"] == 1
    assert info["training"]["epochs"] == 15 and info["metrics"]["val_bleu"] >= 0.0


MIRRORED_SCRIPT = textwrap.dedent(
    """
    import json, sys, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from num2words import num2words
    from applications.text import translation
    data = sys.argv[1] + "/pairs.tsv"
    with open(data, "w") as handle:
        handle.writelines(f"{num2words(i)}\\t{num2words(i, lang='fr')}\\n" for i in range(64))
    losses = {}
    for strategy, per_replica in (("default", 16), ("mirrored", 8)):
        out = sys.argv[1] + "/" + strategy
        translation.train(
            data=data, out=out, size="tiny", num_layers=1, hidden_dim=32, num_heads=2,
            intermediate_dim=64, epochs=3, batch_size=per_replica, max_length=16, vocabulary_size=100,
            dropout_rate=0.0, validation_fraction=0.0, strategy=strategy, verbose=0, seed=1,
        )
        with open(out + "/history.csv") as handle:
            rows = handle.read().splitlines()
        column = rows[0].split(",").index("loss")
        losses[strategy] = [float(row.split(",")[column]) for row in rows[1:]]
    print(json.dumps(losses))
    """
)


def test_mirrored_strategy_on_two_cpus_matches_one_device(tmp_path):
    # Logical devices must be set before TensorFlow starts: a fresh process.
    result = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT, str(tmp_path)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    losses = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(losses["mirrored"]) == 3
    # Not bit-equal: each replica averages over its own non-padding tokens (the
    # loss's documented reduction), and the one-device run is compiled with XLA.
    assert losses["default"] == pytest.approx(losses["mirrored"], rel=0.02)
    assert losses["default"][-1] < losses["default"][0]


def test_init_from_a_run_of_another_architecture_is_refused(rnn_numbers_dir, numbers_file, tmp_path, capsys,
                                                            caplog):
    argv = ["text", "train", "--data", str(numbers_file), "--out", str(tmp_path / "run"), "--max-length", "16",
            "--vocabulary-size", "200", "--epochs", "1", "--strategy", "default", "--init", str(rnn_numbers_dir)]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()  # the one-line message goes to stderr through logging
    assert "it is a rnn run; this run trains --architecture transformer" in captured.err + caplog.text
    assert not (tmp_path / "run").exists()  # a failed start leaves nothing behind


def test_an_unknown_architecture_is_a_flag_error(tmp_path):
    from applications.skeleton.errors import FlagError
    from applications.text import translation

    with pytest.raises(FlagError, match="--architecture: 'lstm' is not one of transformer, t5, rnn"):
        translation.train(data=str(tmp_path / "missing.tsv"), out=str(tmp_path / "run"), architecture="lstm",
                          strategy="default")


def test_long_inputs_are_named_in_one_warning(numbers_predictor, caplog):
    """Inputs longer than the model reads are cut: one warning names them by their input numbers
    (counted over every input, empty ones included), however many there are."""
    long = " ".join(["twelve"] * 200)
    with caplog.at_level("WARNING", logger="applications.text.translation.predictor"):
        translations = numbers_predictor.translate(["", "one", *[long] * 7])
    assert translations[0] == "" and len(translations) == 9
    [warning] = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert warning.startswith("7 of 8 inputs are longer") and "inputs 3 (" in warning and "and 2 more" in warning
