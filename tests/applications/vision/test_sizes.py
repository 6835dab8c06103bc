from applications.vision.sizes import VARIANTS, auto_patch_size, decode_size, size_names
import pytest


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Ti/16", (192, 12, 3, 768, 16)),
        ("S/16", (384, 12, 6, 1536, 16)),
        ("B/32", (768, 12, 12, 3072, 32)),
        ("L/16", (1024, 24, 16, 4096, 16)),
        ("S/8", (384, 12, 6, 1536, 8)),
        ("Ti/4", (192, 12, 3, 768, 4)),
        ("nano", (64, 4, 4, 128, None)),
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
    assert size_names()[:2] == ["mu", "nano"]


@pytest.mark.parametrize("name", ["S/", "X/16", "S/0", "S/16/2", 16, "/4"])
def test_bad_names(name):
    with pytest.raises(ValueError):
        decode_size(name)


def test_unknown_override():
    with pytest.raises(ValueError, match="mlp"):
        decode_size("S/16", mlp=3)


@pytest.mark.parametrize("image_size, patch", [((28, 28), 4), ((32, 32), 4), ((8, 8), 2), ((64, 48), 8),
                                               ((224, 224), 32), ((30, 90), 16)])
def test_auto_patch_keeps_at_most_eight_patches_a_side(image_size, patch):
    assert auto_patch_size(image_size) == patch
