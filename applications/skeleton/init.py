"""`--init`: where a new run's weights start from.

Three kinds, the same in every family:

- a run folder (`runs/vit`): loaded through `applications.load`, so a folder of another
  task, an unfinished run or a damaged model gives its one-line message;
- a `.keras` file: loaded with `applications.skeleton.loading.load_keras_model`;
- `keras_hub:<preset>`: a keras-hub preset name (downloaded by keras-hub, needs internet) or
  a local preset folder (what `backbone.save_to_preset(folder)` writes), loaded with
  `keras_hub.models.Backbone.from_preset` and converted by the family's importer.

Example:

>>> parse_init(None) is None
True
>>> parse_init("keras_hub:vit_base_patch16_224_imagenet")
Init(kind='keras_hub', value='vit_base_patch16_224_imagenet')
>>> parse_init("no/such/run")
Traceback (most recent call last):
...
applications.skeleton.errors.FlagError: --init no/such/run: no such run folder or .keras file
"""

import dataclasses
import os

from applications.skeleton.errors import FlagError

KERAS_HUB_PREFIX = "keras_hub:"


@dataclasses.dataclass(frozen=True)
class Init:
    """A parsed `--init`: `kind` is `"run"`, `"keras_file"` or `"keras_hub"`."""

    kind: str
    value: str

    def __str__(self):
        return f"{KERAS_HUB_PREFIX}{self.value}" if self.kind == "keras_hub" else self.value


def parse_init(spec):
    """An `Init` for a `--init` value, or `None`. Raises `FlagError` for a path that is not there."""
    if spec is None or spec == "":
        return None
    spec = os.fspath(spec)
    if spec.startswith(KERAS_HUB_PREFIX):
        preset = spec[len(KERAS_HUB_PREFIX):]
        if not preset:
            raise FlagError("--init keras_hub: needs a preset name or folder, e.g. keras_hub:vit_base_patch16_224_imagenet")
        return Init("keras_hub", preset)
    if os.path.isdir(spec):
        return Init("run", spec)
    if os.path.isfile(spec):
        if not spec.endswith(".keras"):
            raise FlagError(f"--init {spec}: expected a run folder, a .keras file or keras_hub:<preset>")
        return Init("keras_file", spec)
    raise FlagError(f"--init {spec}: no such run folder or .keras file")


def load_keras_hub_backbone(init, expected, family):
    """The keras-hub backbone of a `keras_hub:` init, checked to be one of `expected` classes.

    Args:
        init: an `Init` of kind `"keras_hub"`.
        expected: keras-hub backbone class names the family imports (e.g. `("ViTBackbone",)`).
        family: the family's command name, for messages.
    """
    import keras_hub

    try:
        backbone = keras_hub.models.Backbone.from_preset(init.value)
    except Exception as error:  # noqa: BLE001 - keras-hub raises many kinds (HTTP, OSError, ValueError)
        where = "the folder" if os.path.isdir(init.value) else "the preset (downloading needs internet)"
        raise FlagError(
            f"--init {init}: keras-hub could not load {where}: {type(error).__name__}: {str(error)[:300]}"
        ) from error
    if type(backbone).__name__ not in expected:
        raise FlagError(
            f"--init {init}: the preset holds a {type(backbone).__name__}; keras-attn {family} imports "
            f"{' or '.join(expected)}"
        )
    return backbone
