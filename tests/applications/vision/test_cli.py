"""`keras-attn vision ...` end to end on the tiny digits model: JSON on stdout only."""

import json

from applications.cli import main


def _first_images(digits_dir, count=2):
    return [str(sorted((digits_dir / f"digit_{i}").iterdir())[0]) for i in range(count)]


def test_evaluate_json(trained, digits_dir, tmp_path, capsys):
    _, out = trained
    assert main(["vision", "evaluate", "--model", str(out), "--data", str(digits_dir), "--out", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)  # stdout is exactly one JSON document
    assert result["accuracy"] > 0.6 and result["top5_accuracy"] >= result["accuracy"]
    assert set(result["per_class_accuracy"]) == {f"digit_{i}" for i in range(10)}
    assert (tmp_path / "confusion_matrix.png").stat().st_size > 0


def test_predict_json(trained, digits_dir, capsys):
    _, out = trained
    images = _first_images(digits_dir)
    assert main(["vision", "predict", "--model", str(out), "--top-k", "3", "--json", *images]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["input"] for r in results] == images
    for result in results:
        assert len(result["top_k"]) == 3 and result["top_k"][0]["label"] == result["label"]
        probabilities = [item["probability"] for item in result["top_k"]]
        assert probabilities == sorted(probabilities, reverse=True) and 0.0 < sum(probabilities) <= 1.0 + 1e-6


def test_predict_names_a_corrupt_file(trained, tmp_path, capsys, caplog):
    _, out = trained
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"garbage")
    assert main(["vision", "predict", "--model", str(out), str(bad)]) == 2
    assert "broken.png" in caplog.text and capsys.readouterr().out == ""
    caplog.clear()
    assert main(["vision", "predict", "--model", str(out), str(tmp_path / "missing.png")]) == 2
    assert "No such image file" in caplog.text and "unreadable" not in caplog.text


def test_explain_writes_png(trained, digits_dir, tmp_path, capsys):
    _, out = trained
    image = _first_images(digits_dir, 1)[0]
    target = tmp_path / "heat.png"
    assert main(["vision", "explain", "--model", str(out), "--out", str(target), "--json", image]) == 0
    result = json.loads(capsys.readouterr().out)[0]
    assert result["heatmap"] == str(target) and target.read_bytes()[:4] == b"\x89PNG"


def test_train_reports_an_empty_class(tmp_path, caplog):
    (tmp_path / "data" / "only_class").mkdir(parents=True)
    code = main(["vision", "train", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "run")])
    assert code == 2 and "No images" in caplog.text
    assert not (tmp_path / "run").exists()  # a failed start leaves nothing behind


def test_no_xla_flag_reaches_the_training_run(digits_dir, tmp_path, monkeypatch):
    from training_run_spy import jit_compile_of_train_command

    argv = ["vision", "train", "--data", str(digits_dir), "--out", str(tmp_path / "run")]
    assert jit_compile_of_train_command(monkeypatch, argv) == ["auto", False]
