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
    for name in ("model.keras", "tokenizer.model", "translator.json", "history.csv", "training_curve.png",
                 "test.tsv", "checkpoints", "saved_model"):
        assert (numbers_dir / name).exists(), name
    history = (numbers_dir / "history.csv").read_text().splitlines()
    assert len(history) == 16 and "val_loss" in history[0]  # header + 15 epochs, with validation


MIRRORED_SCRIPT = textwrap.dedent(
    """
    import json, sys, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from num2words import num2words
    from applications.text.train import train_translator
    pairs = [(num2words(i), num2words(i, lang="fr")) for i in range(64)]
    losses = {}
    for strategy, per_replica in (("default", 16), ("mirrored", 8)):
        _, history = train_translator(
            pairs, sys.argv[1] + "/" + strategy, size="tiny", num_layers=1, hidden_dim=32, num_heads=2,
            intermediate_dim=64, epochs=3, batch_size=per_replica, max_length=16, vocabulary_size=100,
            dropout_rate=0.0, validation_fraction=0.0, strategy=strategy, verbose=0, seed=1,
        )
        losses[strategy] = history.history["loss"]
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
