"""Named speech encoder sizes, in the skeleton's `SizeTable` format.

`tiny` and `small` train on a laptop CPU; the `whisper-*` sizes are the encoder shapes of
OpenAI's Whisper checkpoints (Radford et al., 2022, table 1).

Example:

>>> SIZES.decode("tiny", num_layers=1)
{'hidden_dim': 64, 'num_layers': 1, 'num_heads': 4, 'intermediate_dim': 128}
>>> SIZES.names()[:3]
['tiny', 'small', 'base']
"""

from applications.skeleton.sizes import SizeTable

SIZES = SizeTable(
    "speech encoder",
    {
        "tiny": dict(hidden_dim=64, num_layers=2, num_heads=4, intermediate_dim=128),
        "small": dict(hidden_dim=192, num_layers=4, num_heads=4, intermediate_dim=768),
        "base": dict(hidden_dim=256, num_layers=6, num_heads=4, intermediate_dim=1024),
        "whisper-tiny": dict(hidden_dim=384, num_layers=4, num_heads=6, intermediate_dim=1536),
        "whisper-base": dict(hidden_dim=512, num_layers=6, num_heads=8, intermediate_dim=2048),
        "whisper-small": dict(hidden_dim=768, num_layers=12, num_heads=12, intermediate_dim=3072),
    },
    default="tiny",
    notes={"tiny": "~0.1 M parameters: keywords on a CPU"},
)
