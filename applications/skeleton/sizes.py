"""Named model sizes, one format for every family.

A `SizeTable` maps a size name to the dimensions it fixes (`num_layers`, `hidden_dim`,
`num_heads`, `intermediate_dim`, and whatever else a family sizes, such as a ViT's
`patch_size`). `decode(name, **overrides)` returns the dimensions with every override that
is not `None` applied, so the dimension flags pass straight through. Families with a naming
scheme of their own (ViT's `"S/16"`) give a `parse` function that splits the name into a
table entry and extra dimensions.

Example:

>>> table = SizeTable("translation", {
...     "tiny": dict(num_layers=2, hidden_dim=64, num_heads=4, intermediate_dim=128),
...     "base": dict(num_layers=6, hidden_dim=512, num_heads=8, intermediate_dim=2048),
... }, default="tiny")
>>> table.decode(None, hidden_dim=32)
{'num_layers': 2, 'hidden_dim': 32, 'num_heads': 4, 'intermediate_dim': 128}
>>> table.decode("huge")
Traceback (most recent call last):
...
applications.skeleton.errors.FlagError: --size: unknown translation size 'huge'; choose from: tiny, base
"""

from applications.skeleton.errors import FlagError


class SizeTable:
    """Named sizes of one family.

    Args:
        family: the family's name, for messages.
        sizes: `{name: {dimension: value}}`, smallest first; every entry has the same keys.
        default: the size used when none is given (the one the demo proves).
        parse: optional `name -> (entry name, {extra dimension: value})` for composite names.
        notes: optional `{name: one-line note}` shown in `describe()`.
    """

    def __init__(self, family, sizes, default, parse=None, notes=None):
        keys = {tuple(sorted(entry)) for entry in sizes.values()}
        if len(keys) != 1:
            raise ValueError(f"Every {family} size must fix the same dimensions. Received: {sizes}")
        self.family = family
        self.sizes = {name: dict(entry) for name, entry in sizes.items()}
        self.default = default
        self.parse = parse
        self.notes = dict(notes or {})
        self.dimensions = tuple(next(iter(sizes.values())))

    def names(self):
        return list(self.sizes)

    def decode(self, name=None, **overrides):
        """The dimensions of size `name` (default: `self.default`) with `overrides` applied.

        Raises:
            FlagError: for an unknown name, naming the choices.
        """
        name = self.default if name is None else name
        extra = {}
        entry = name
        if self.parse is not None:
            entry, extra = self.parse(name)
        if entry not in self.sizes:
            raise FlagError(
                f"--size: unknown {self.family} size {name!r}; choose from: {', '.join(self.names())}"
            )
        dimensions = dict(self.sizes[entry], **extra)
        dimensions.update({key: value for key, value in overrides.items() if value is not None})
        hidden, heads = dimensions.get("hidden_dim"), dimensions.get("num_heads")
        if hidden is not None and heads is not None and hidden % heads:
            raise FlagError(
                f"--hidden-dim ({hidden}) must be divisible by --num-heads ({heads}) for size {name!r}"
            )
        return dimensions

    def describe(self):
        """One line per size, for `--help`."""
        lines = []
        for name, entry in self.sizes.items():
            values = ", ".join(f"{key} {value}" for key, value in entry.items())
            note = f"  ({self.notes[name]})" if name in self.notes else ""
            default = " [default]" if name == self.default else ""
            lines.append(f"  {name}: {values}{default}{note}")
        return "\n".join(lines)
