"""write_training_curve / read_history: the PNG of a run's CSV history."""

from keras_attn.training import write_training_curve
from keras_attn.training.curves import read_history

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_curve_keeps_the_last_row_of_a_repeated_epoch(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss,val_loss\n0,3.0,NA\n1,2.0,NA\n1,1.5,NA\n2,1.0,NA\n")
    assert read_history(path) == {"loss": [(1, 3.0), (2, 1.5), (3, 1.0)]}
    assert write_training_curve(path, tmp_path / "curve.png") == tmp_path / "curve.png"
    assert write_training_curve(tmp_path / "missing.csv", tmp_path / "x.png") is None


def test_png_has_one_panel_per_metric(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,2.0,0.4,2.5\n1,0.7,1.0,0.6,1.5\n")
    png = write_training_curve(path, tmp_path / "curve.png", title="run")
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert list(read_history(path)) == ["accuracy", "loss", "val_accuracy", "val_loss"]
