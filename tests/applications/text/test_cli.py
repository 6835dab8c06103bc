"""`keras-attn text translate|attention`: stdout carries only the results."""

import io

from applications import cli


def test_translate_arguments_and_stdin(numbers_dir, capsys, monkeypatch):
    capsys.readouterr()
    assert cli.main(["text", "translate", "--model", str(numbers_dir), "twelve", "forty-one"]) == 0
    assert capsys.readouterr().out.splitlines() == ["douze", "quarante et un"]
    monkeypatch.setattr("sys.stdin", io.StringIO("twelve\n\nninety\n"))
    assert cli.main(["text", "translate", "--model", str(numbers_dir), "--beam-width", "2"]) == 0
    assert capsys.readouterr().out.splitlines() == ["douze", "quatre-vingt-dix"]


def test_attention_heatmap(numbers_dir, tmp_path, capsys):
    out = tmp_path / "alignment.png"
    assert cli.main(["text", "attention", "--model", str(numbers_dir), "three hundred and five", "--out",
                     str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cross_attention_weights(numbers_translator):
    source, target, weights = numbers_translator.cross_attention("three hundred and five")
    assert weights.shape == (len(target), len(source))
    assert abs(weights.sum(axis=1) - 1).max() < 1e-4  # a distribution over the source per row
    assert "".join(target).replace("\u2581", " ").strip().startswith("trois cent cinq")


def test_no_xla_flag_reaches_the_training_run(tmp_path, monkeypatch):
    from applications.text import train as text_train
    from training_run_spy import jit_compile_of_train_command

    argv = ["text", "train", "--data", str(tmp_path / "pairs.tsv"), "--out", str(tmp_path / "run")]
    assert jit_compile_of_train_command(monkeypatch, text_train, argv) == ["auto", False]
