"""`keras-attn text translate|attention`: stdout carries only the results; both work for every
architecture."""

import io
import json

import applications
from applications import cli


def test_translate_arguments_and_stdin(numbers_dir, numbers_predictor, capsys, monkeypatch):
    capsys.readouterr()
    assert cli.main(["text", "translate", "--model", str(numbers_dir), "twelve", "forty-one"]) == 0
    assert capsys.readouterr().out.splitlines() == numbers_predictor.translate(["twelve", "forty-one"])
    # stdin: one output line per input line, an empty line for an empty input.
    monkeypatch.setattr("sys.stdin", io.StringIO("twelve\n\nninety\n"))
    assert cli.main(["text", "predict", "--model", str(numbers_dir), "--beam-width", "2"]) == 0
    expected = numbers_predictor.translate(["twelve", "", "ninety"], beam_width=2)
    assert capsys.readouterr().out.split("\n")[:3] == expected and expected[1] == ""


def test_json_output(numbers_dir, capsys):
    capsys.readouterr()
    assert cli.main(["text", "translate", "--model", str(numbers_dir), "--json", "twelve"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert set(result) == {"input", "translation"} and result["input"] == "twelve"


def test_every_architecture_translates_from_the_command_line(architecture_dir, capsys):
    _, folder = architecture_dir
    capsys.readouterr()
    assert cli.main(["text", "translate", "--model", str(folder), "--json", "twelve", "five hundred"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["translation"] for r in results] == applications.load(folder).translate(["twelve", "five hundred"])


def test_attention_heatmap(architecture_dir, tmp_path, capsys):
    _, folder = architecture_dir
    out = tmp_path / "alignment.png"
    assert cli.main(["text", "attention", "--model", str(folder), "three hundred and five", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_alignment_weights(architecture_translator):
    _, translator = architecture_translator
    source, target, weights = translator.cross_attention("three hundred and five")
    assert weights.shape == (len(target), len(source))
    assert abs(weights.sum(axis=1) - 1).max() < 1e-4  # a distribution over the source per row
    # The rows are the pieces of the greedy translation (start token excluded, end token included).
    translation = translator.translate(["three hundred and five"])[0]
    assert "".join(target).replace("\u2581", " ").strip().startswith(translation.strip())


def test_no_xla_flag_reaches_the_training_run(tmp_path, monkeypatch):
    from training_run_spy import jit_compile_of_train_command

    (tmp_path / "pairs.tsv").write_text("one\tun\n")
    argv = ["text", "train", "--data", str(tmp_path / "pairs.tsv"), "--out", str(tmp_path / "run")]
    assert jit_compile_of_train_command(monkeypatch, argv) == ["auto", False]
