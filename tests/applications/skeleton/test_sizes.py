import pytest

from applications.skeleton.errors import FlagError
from applications.skeleton.sizes import SizeTable

TABLE = SizeTable("toy", {"s": dict(num_layers=1, hidden_dim=8, num_heads=2, intermediate_dim=16),
                          "m": dict(num_layers=2, hidden_dim=16, num_heads=4, intermediate_dim=32)}, default="s")


def test_decode_default_and_overrides():
    assert TABLE.decode(None)["hidden_dim"] == 8
    assert TABLE.decode("m", num_layers=5, hidden_dim=None) == {"num_layers": 5, "hidden_dim": 16, "num_heads": 4,
                                                               "intermediate_dim": 32}


def test_errors_name_the_flag():
    with pytest.raises(FlagError, match="--size: unknown toy size 'x'; choose from: s, m"):
        TABLE.decode("x")
    with pytest.raises(FlagError, match="--hidden-dim"):
        TABLE.decode("s", hidden_dim=9)
    with pytest.raises(ValueError, match="same dimensions"):
        SizeTable("bad", {"a": {"x": 1}, "b": {"y": 2}}, default="a")


def test_describe_marks_the_default():
    assert "s: num_layers 1, hidden_dim 8, num_heads 2, intermediate_dim 16 [default]" in TABLE.describe()
