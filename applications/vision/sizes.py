"""Named Vision Transformer sizes, decoded in one place (big_vision style).

A size name is `VARIANT/PATCH`: the variant fixes the widths, the number after
the slash is the patch size. "S/16" is ViT-Small with 16x16 patches, "B/32"
ViT-Base with 32x32 patches; small images take small patches ("Ti/4" for
32x32 images, "mu/2" for 8x8 digits).

| variant | hidden_dim | num_layers | num_heads | intermediate_dim | params (/16, 224 px) |
|---------|-----------:|-----------:|----------:|-----------------:|---------------------:|
| mu      |         32 |          1 |         2 |              128 | (a CPU toy)          |
| Ti      |        192 |         12 |         3 |              768 | 5.7 M                |
| S       |        384 |         12 |         6 |             1536 | 22 M                 |
| M       |        512 |         12 |         8 |             2048 | 39 M                 |
| B       |        768 |         12 |        12 |             3072 | 86 M                 |
| L       |       1024 |         24 |        16 |             4096 | 304 M                |
| H       |       1280 |         32 |        16 |             5120 | 632 M                |

The widths are those of Dosovitskiy et al. 2021 (B, L, H), Touvron et al. 2021
(Ti, S) and big_vision's `decode_variant` (mu, M).

Example:

>>> decode_size("S/16")
{'hidden_dim': 384, 'num_layers': 12, 'num_heads': 6, 'intermediate_dim': 1536, 'patch_size': 16}
>>> decode_size("Ti/4", num_layers=4)["num_layers"]
4
"""

# variant -> (hidden_dim, num_layers, num_heads, intermediate_dim)
VARIANTS = {
    "mu": (32, 1, 2, 128),
    "Ti": (192, 12, 3, 768),
    "S": (384, 12, 6, 1536),
    "M": (512, 12, 8, 2048),
    "B": (768, 12, 12, 3072),
    "L": (1024, 24, 16, 4096),
    "H": (1280, 32, 16, 5120),
}

_DIMENSIONS = ("hidden_dim", "num_layers", "num_heads", "intermediate_dim", "patch_size")


def size_names():
    """The variant names, smallest first (`"mu"`, `"Ti"`, ...)."""
    return list(VARIANTS)


def decode_size(name, **overrides):
    """Decode `"VARIANT/PATCH"` into the backbone's dimensions.

    Args:
        name: e.g. `"B/16"`, `"S/32"`, `"Ti/4"`.
        **overrides: any of `hidden_dim`, `num_layers`, `num_heads`,
            `intermediate_dim`, `patch_size`; a `None` value keeps the named
            one (so command-line flags can be passed straight through).

    Returns:
        A dict with `hidden_dim`, `num_layers`, `num_heads`,
        `intermediate_dim` and `patch_size`.

    Raises:
        ValueError: for an unknown variant, a malformed name or an unknown
            override.
    """
    if not isinstance(name, str) or name.count("/") != 1:
        raise ValueError(f"A size is written 'VARIANT/PATCH', e.g. 'S/16'. Received: name={name!r}")
    variant, patch = name.split("/")
    if variant not in VARIANTS:
        raise ValueError(f"Unknown ViT variant {variant!r}; choose from {size_names()}. Received: name={name!r}")
    if not patch.isdigit() or int(patch) < 1:
        raise ValueError(f"The patch size after '/' must be a positive int. Received: name={name!r}")
    unknown = sorted(set(overrides) - set(_DIMENSIONS))
    if unknown:
        raise ValueError(f"Unknown dimension override(s) {unknown}; choose from {list(_DIMENSIONS)}.")
    hidden_dim, num_layers, num_heads, intermediate_dim = VARIANTS[variant]
    dimensions = {
        "hidden_dim": hidden_dim,
        "num_layers": num_layers,
        "num_heads": num_heads,
        "intermediate_dim": intermediate_dim,
        "patch_size": int(patch),
    }
    dimensions.update({key: value for key, value in overrides.items() if value is not None})
    return dimensions
