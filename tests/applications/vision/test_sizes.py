import pytest

from applications.vision.sizes import VARIANTS, decode_size, size_names


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Ti/16", (192, 12, 3, 768, 16)),
        ("S/16", (384, 12, 6, 1536, 16)),
        ("B/32", (768, 12, 12, 3072, 32)),
        ("L/16", (1024, 24, 16, 4096, 16)),
        ("S/8", (384, 12, 6, 1536, 8)),
        ("Ti/4", (192, 12, 3, 768, 4)),
    ],
)
def test_decode(name, expected):
    got = decode_size(name)
    assert (got["hidden_dim"], got["num_layers"], got["num_heads"], got["intermediate_dim"], got["patch_size"]) == expected


def test_overrides_and_none_keeps_named():
    got = decode_size("B/16", num_layers=2, hidden_dim=None, intermediate_dim=64)
    assert got == {"hidden_dim": 768, "num_layers": 2, "num_heads": 12, "intermediate_dim": 64, "patch_size": 16}


def test_heads_divide_width_for_every_variant():
    for hidden_dim, _, num_heads, _ in VARIANTS.values():
        assert hidden_dim % num_heads == 0
    assert size_names()[0] == "mu"


@pytest.mark.parametrize("name", ["S", "S/", "X/16", "S/0", "S/16/2", 16])
def test_bad_names(name):
    with pytest.raises(ValueError):
        decode_size(name)


def test_unknown_override():
    with pytest.raises(ValueError, match="mlp"):
        decode_size("S/16", mlp=3)
