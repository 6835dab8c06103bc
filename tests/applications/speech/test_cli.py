import json

from applications import cli


def _run(capsys, *argv):
    assert cli.main(list(argv)) == 0
    return capsys.readouterr().out


def test_evaluate_json(capsys, trained_keywords, keyword_data):
    out_dir, _ = trained_keywords
    scores = json.loads(_run(capsys, "speech", "evaluate", "--model", str(out_dir), "--data", str(keyword_data[1]), "--json"))
    assert set(scores) == {"accuracy", "clips"} and 0.0 <= scores["accuracy"] <= 1.0


def test_predict_json_and_text(capsys, trained_keywords, keyword_data):
    out_dir, _ = trained_keywords
    clips = sorted(str(path) for path in (keyword_data[1] / "yes").iterdir())[:2]
    results = json.loads(_run(capsys, "speech", "predict", "--model", str(out_dir), *clips, "--json"))
    assert [result["input"] for result in results] == clips
    for result in results:
        assert result["label"] in ("left", "stop", "yes") and 0.0 < result["probability"] <= 1.0
    text = _run(capsys, "speech", "predict", "--model", str(out_dir), clips[0])
    assert text.startswith(clips[0] + "\t")


def test_plot(capsys, trained_keywords, keyword_data, tmp_path):
    out_dir, _ = trained_keywords
    clip = sorted((keyword_data[1] / "stop").iterdir())[0]
    picture = tmp_path / "clip.png"
    _run(capsys, "speech", "plot", "--model", str(out_dir), str(clip), "--out", str(picture))
    assert picture.read_bytes().startswith(b"\x89PNG")


def test_train_ctc_json(capsys, tmp_path, tone):
    lines = ["path\ttranscript"]
    for index, text in enumerate(["yes", "no", "yes no", "no"]):
        tone(tmp_path / f"c{index}.flac", seconds=0.2, frequency=300.0 + 150 * index)
        lines.append(f"c{index}.flac\t{text}")
    (tmp_path / "train.tsv").write_text("\n".join(lines) + "\n")
    summary = json.loads(_run(
        capsys, "speech", "train", "--data", str(tmp_path / "train.tsv"), "--task", "ctc", "--out", str(tmp_path / "run"),
        "--epochs", "1", "--batch-size", "2", "--num-layers", "1", "--hidden-dim", "16", "--num-heads", "2",
        "--intermediate-dim", "16", "--strategy", "default", "--json",
        "--validation-data", str(tmp_path / "train.tsv"),
    ))
    assert summary["task"] == "speech-ctc" and summary["val_cer"] >= 0.0 and summary["val_wer"] >= 0.0
    scores = json.loads(_run(capsys, "speech", "evaluate", "--model", str(tmp_path / "run"),
                             "--data", str(tmp_path / "train.tsv"), "--json", "--beam-width", "4"))
    assert set(scores) == {"cer", "wer", "clips"}
    [result] = json.loads(_run(capsys, "speech", "predict", "--model", str(tmp_path / "run"),
                               str(tmp_path / "c0.flac"), "--json"))
    assert set(result) == {"input", "transcript"}


def test_no_xla_flag_reaches_the_training_run(keyword_data, tmp_path, monkeypatch):
    from training_run_spy import jit_compile_of_train_command

    argv = ["speech", "train", "--data", str(keyword_data[0]), "--out", str(tmp_path / "run")]
    assert jit_compile_of_train_command(monkeypatch, argv) == ["auto", False]
