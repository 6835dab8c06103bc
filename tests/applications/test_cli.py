"""The `keras-attn` entry point: user errors are one line on stderr and exit 2."""

import pytest

from applications.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["text", "translate", "--model", "no/such/folder", "hello"],
        ["vision", "predict", "--model", "no/such/folder", "image.png"],
        ["speech", "predict", "--model", "no/such/folder", "clip.wav"],
    ],
)
def test_a_missing_model_is_one_line_and_exit_2(argv, capsys, caplog):
    assert main(argv) == 2
    assert "no/such/folder" in caplog.text
    assert "Traceback" not in capsys.readouterr().err
    assert capsys.readouterr().out == ""


def test_verbose_keeps_the_traceback():
    with pytest.raises((OSError, ValueError)):
        main(["-v", "text", "translate", "--model", "no/such/folder", "hello"])


def test_demo_keeps_stdout_for_results(monkeypatch, capsys, tmp_path):
    import applications.vision.demo

    def run_demo(out_dir):
        print("Epoch 1/1 a progress bar")  # what Keras prints during training
        return {"accuracy": 0.5}

    monkeypatch.setattr(applications.vision.demo, "run_demo", run_demo)
    assert main(["demo", "--only", "vision", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "Epoch 1/1" in captured.err and "Epoch" not in captured.out
    assert "vision: accuracy=0.5, seconds=" in captured.out
