"""Named Vision Transformer sizes (big_vision style), in the skeleton's `SizeTable` format.

A size name is `VARIANT` or `VARIANT/PATCH`: the variant fixes the widths, the number after
the slash is the patch size ("S/16" is ViT-Small with 16x16 patches). Without a patch size
(`"nano"`, the default) the patch is chosen from the image size by `auto_patch_size`: the
smallest power of two that cuts the longer image side into at most 8 patches (28x28 -> 4,
7x7 patches; 224x224 -> 32), which keeps a CPU-sized model fast on any image size.

| variant | hidden_dim | num_layers | num_heads | intermediate_dim | params (/16, 224 px) |
|---------|-----------:|-----------:|----------:|-----------------:|---------------------:|
| mu      |         32 |          1 |         2 |              128 | (a CPU toy)          |
| nano    |         64 |          4 |         4 |              128 | 0.14 M at 28 px /4 (what `make demo` trains) |
| Ti      |        192 |         12 |         3 |              768 | 5.7 M                |
| S       |        384 |         12 |         6 |             1536 | 22 M                 |
| M       |        512 |         12 |         8 |             2048 | 39 M                 |
| B       |        768 |         12 |        12 |             3072 | 86 M                 |
| L       |       1024 |         24 |        16 |             4096 | 304 M                |
| H       |       1280 |         32 |        16 |             5120 | 632 M                |

The widths are those of Dosovitskiy et al. 2021 (B, L, H), Touvron et al. 2021 (Ti, S) and
big_vision's `decode_variant` (mu, M); `nano` is this project's CPU size, proven by the demo.

Example:

>>> decode_size("S/16")
{'hidden_dim': 384, 'num_layers': 12, 'num_heads': 6, 'intermediate_dim': 1536, 'patch_size': 16}
>>> decode_size("Ti/4", num_layers=4)["num_layers"]
4
>>> decode_size("nano")["patch_size"] is None, auto_patch_size((28, 28)), auto_patch_size((224, 224))
(True, 4, 32)
"""

from applications.skeleton.errors import FlagError
from applications.skeleton.sizes import SizeTable

# variant -> (hidden_dim, num_layers, num_heads, intermediate_dim)
VARIANTS = {
    "mu": (32, 1, 2, 128),
    "nano": (64, 4, 4, 128),
    "Ti": (192, 12, 3, 768),
    "S": (384, 12, 6, 1536),
    "M": (512, 12, 8, 2048),
    "B": (768, 12, 12, 3072),
    "L": (1024, 24, 16, 4096),
    "H": (1280, 32, 16, 5120),
}
DEFAULT_SIZE = "nano"
MAX_PATCHES_PER_SIDE = 8  # the automatic patch keeps at most 8 x 8 patches

_DIMENSIONS = ("hidden_dim", "num_layers", "num_heads", "intermediate_dim", "patch_size")


def _parse(name):
    """`"S/16"` -> `("S", {"patch_size": 16})`; `"S"` -> `("S", {"patch_size": None})`."""
    if not isinstance(name, str) or name.count("/") > 1 or not name.split("/")[0]:
        raise FlagError(f"--size: a ViT size is written VARIANT or VARIANT/PATCH, e.g. S/16. Received: {name!r}")
    variant, _, patch = name.partition("/")
    if "/" in name and (not patch.isdigit() or int(patch) < 1):
        raise FlagError(f"--size: the patch size after '/' must be a positive integer. Received: {name!r}")
    return variant, {"patch_size": int(patch) if patch else None}


SIZES = SizeTable(
    "ViT",
    {name: dict(zip(("hidden_dim", "num_layers", "num_heads", "intermediate_dim"), dims))
     for name, dims in VARIANTS.items()},
    default=DEFAULT_SIZE,
    parse=_parse,
    notes={"nano": "the default; VARIANT alone picks the patch from the image size, VARIANT/PATCH sets it"},
)


def size_names():
    """The variant names, smallest first (`"mu"`, `"nano"`, `"Ti"`, ...)."""
    return SIZES.names()


def decode_size(name=None, **overrides):
    """The backbone's dimensions for a size name; `patch_size` is `None` when the name has none.

    `overrides` (any of `hidden_dim`, `num_layers`, `num_heads`, `intermediate_dim`,
    `patch_size`; `None` keeps the named value) replace the named dimensions.

    Raises:
        FlagError (a `ValueError`): for an unknown variant, a malformed name or override.
    """
    unknown = sorted(set(overrides) - set(_DIMENSIONS))
    if unknown:
        raise FlagError(f"Unknown dimension override(s) {unknown}; choose from {list(_DIMENSIONS)}.")
    return SIZES.decode(name, **overrides)


def auto_patch_size(image_size):
    """The smallest power of two that cuts the longer side into at most 8 patches (>= 2)."""
    side = max(image_size)
    patch = 2
    while -(-side // patch) > MAX_PATCHES_PER_SIDE:
        patch *= 2
    return patch
