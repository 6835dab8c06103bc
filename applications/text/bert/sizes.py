"""Named BERT sizes, in the skeleton's `SizeTable` format.

| size   | num_layers | hidden_dim | num_heads | intermediate_dim | note |
|--------|-----------:|-----------:|----------:|-----------------:|------|
| nano   |          2 |         64 |         2 |              256 | a CPU toy (tests) |
| tiny   |          2 |        128 |         2 |              512 | the default: BERT-Tiny, what `make demo` trains |
| mini   |          4 |        256 |         4 |             1024 | BERT-Mini |
| small  |          4 |        512 |         8 |             2048 | BERT-Small |
| medium |          8 |        512 |         8 |             2048 | BERT-Medium |
| base   |         12 |        768 |        12 |             3072 | BERT-Base (Devlin et al. 2019) |

tiny to medium are the compact BERTs of Turc et al. 2019 ("Well-Read Students Learn Better",
https://arxiv.org/abs/1908.08962); base is the paper's. Every size has a feed-forward width of
four times its hidden width, and heads of 64 (32 for nano).

Example:

>>> SIZES.decode("base")
{'num_layers': 12, 'hidden_dim': 768, 'num_heads': 12, 'intermediate_dim': 3072}
>>> SIZES.decode(None, num_layers=1)["hidden_dim"]
128
"""

from applications.skeleton.sizes import SizeTable

SIZES = SizeTable(
    "bert",
    {
        "nano": dict(num_layers=2, hidden_dim=64, num_heads=2, intermediate_dim=256),
        "tiny": dict(num_layers=2, hidden_dim=128, num_heads=2, intermediate_dim=512),
        "mini": dict(num_layers=4, hidden_dim=256, num_heads=4, intermediate_dim=1024),
        "small": dict(num_layers=4, hidden_dim=512, num_heads=8, intermediate_dim=2048),
        "medium": dict(num_layers=8, hidden_dim=512, num_heads=8, intermediate_dim=2048),
        "base": dict(num_layers=12, hidden_dim=768, num_heads=12, intermediate_dim=3072),
    },
    default="tiny",
    notes={"nano": "a CPU toy", "tiny": "the default: make demo's model (BERT-Tiny)",
           "base": "BERT-Base, Devlin et al. (2019)"},
)
