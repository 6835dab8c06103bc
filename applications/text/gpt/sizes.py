"""Named GPT sizes.

`small` is the default (the demo's and benchmark's model: nanoGPT's CPU recipe for a
character model, 4 blocks of width 128 with 4 heads, about 0.8 M parameters); `base` is
nanoGPT's Shakespeare-character GPU model (6 blocks of width 384); `gpt2` is GPT-2 small's
shape (124 M parameters with its 50,257-token vocabulary).

>>> SIZES.decode("small")
{'num_layers': 4, 'hidden_dim': 128, 'num_heads': 4, 'intermediate_dim': 512}
"""

from applications.skeleton.sizes import SizeTable

SIZES = SizeTable(
    "gpt",
    {
        "tiny": dict(num_layers=2, hidden_dim=64, num_heads=2, intermediate_dim=256),
        "small": dict(num_layers=4, hidden_dim=128, num_heads=4, intermediate_dim=512),
        "base": dict(num_layers=6, hidden_dim=384, num_heads=6, intermediate_dim=1536),
        "gpt2": dict(num_layers=12, hidden_dim=768, num_heads=12, intermediate_dim=3072),
    },
    default="small",
    notes={"small": "nanoGPT's CPU character model", "base": "nanoGPT's Shakespeare-character GPU model",
           "gpt2": "GPT-2 small's blocks"},
)
