"""Training: a tiny model learns number phrases; the run's files; MirroredStrategy parity."""

import json
import subprocess
import sys
import textwrap

import pytest

from applications import cli


def test_tiny_model_learns_number_phrases(numbers_dir, capsys):
    capsys.readouterr()
    assert cli.main(["text", "evaluate", "--model", str(numbers_dir), "--data", str(numbers_dir / "test.tsv"),
                     "--json"]) == 0
    results = json.loads(capsys.readouterr().out)  # stdout is exactly one JSON document
    assert results["num_pairs"] == 100  # held-out numbers, never seen in training
    assert results["exact_match"] >= 0.9
    assert results["bleu"] >= 90


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
