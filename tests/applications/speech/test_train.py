import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from applications import speech
from applications.speech.character_vocabulary import OutOfVocabularyError


def test_tiny_model_learns_shipped_keywords_on_unseen_voices(trained_keywords, keyword_predictor, keyword_data):
    out_dir, summary = trained_keywords
    scores = keyword_predictor.evaluate(keyword_data[1])
    # Three words (chance 1/3), 8 test clips each, voices never heard in training.
    assert scores["clips"] == 24
    assert scores["accuracy"] >= 0.75, scores
    for name in ("model.keras", "history.csv", "training_curve.png", "attention.png", "run.json"):
        assert (out_dir / name).is_file(), name
    info = json.loads((out_dir / "run.json").read_text())
    assert info["task"] == "speech-classification" and info["preprocessing"]["class_names"] == ["left", "stop", "yes"]


def _tone_manifest(tmp_path, tone, transcripts):
    lines = ["path,transcript"]
    for index, text in enumerate(transcripts):
        tone(tmp_path / f"clip{index}.wav", seconds=0.2 + 0.05 * index, frequency=200.0 + 100 * index)
        lines.append(f"clip{index}.wav,{text}")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def test_transcript_outside_vocabulary_names_the_clip(tmp_path, tone):
    manifest = _tone_manifest(tmp_path, tone, ["ok", "call 911"])
    with pytest.raises(OutOfVocabularyError, match=r"clip1.wav.*\['1', '9'\]"):
        speech.train(data=str(manifest), out=str(tmp_path / "run"), epochs=1, batch_size=2, strategy="default",
                     verbose=0)
    assert not (tmp_path / "run").exists()


_MIRRORED = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from applications import speech
    data, out = sys.argv[1], sys.argv[2]
    losses = {}
    for strategy, per_replica in (("default", 8), ("mirrored", 4)):
        summary = speech.train(data=data, out=f"{out}/{strategy}", task="classify", epochs=3,
                               batch_size=per_replica, strategy=strategy, hidden_dim=16, num_heads=2,
                               intermediate_dim=32, num_layers=1, spec_augment=False, dropout_rate=0.0,
                               plot=False, verbose=0, seed=0, shuffle=False)
        with open(f"{out}/{strategy}/history.csv") as handle:
            rows = handle.read().splitlines()
        column = rows[0].split(",").index("loss")
        losses[strategy] = [float(row.split(",")[column]) for row in rows[1:]]
    print(json.dumps(losses))
    """
)


def test_mirrored_over_two_cpus_gives_one_device_losses(keyword_data, tmp_path):
    """Global batch 8 as 8 on one device or 4 x 2 replicas: the same training."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env = {**os.environ, "PYTHONPATH": root, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, "-c", _MIRRORED, str(keyword_data[1]), str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    losses = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(losses["default"]) == 3
    np.testing.assert_allclose(losses["mirrored"], losses["default"], rtol=2e-3)
    assert losses["default"][-1] < losses["default"][0]


def test_keyword_clip_longer_than_the_model_is_cut_with_a_warning(keyword_predictor, tone, tmp_path, caplog):
    """The keyword classifier hears a fixed length: a longer clip is scored on its start, and the
    warning names the file (the recognisers transcribe long recordings in pieces instead)."""
    seconds = 3 * keyword_predictor.max_samples / 16000
    long_clip, short_clip = tone(tmp_path / "long.wav", seconds=seconds), tone(tmp_path / "short.wav", seconds=0.3)
    with caplog.at_level("WARNING", logger="applications.speech.data"):
        results = keyword_predictor.predict([long_clip, short_clip])
    assert [result["input"] for result in results] == [str(long_clip), str(short_clip)]
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert len(warnings) == 1 and f"{long_clip} ({seconds:.2f} s)" in warnings[0] and "--max-seconds" in warnings[0]
    assert str(short_clip) not in warnings[0]
