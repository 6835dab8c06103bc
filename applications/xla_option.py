"""The `--no-xla` option of every `keras-attn <domain> train` command.

Training compiles its step with XLA on one device (`keras_attn.training.TrainingRun`).
On a CPU, XLA is slower than TensorFlow's graph for long non-causal inputs
(`benchmarks/RESULTS.md`: a 1024-token encoder block trains ~1.6x faster
without it), so the commands let the user turn it off.
"""

HELP = (
    "train without XLA (TensorFlow's graph); faster on CPU for long non-causal inputs, "
    "see benchmarks/RESULTS.md"
)


def add_no_xla_flag(parser):
    """Add `--no-xla` to a `train` sub-parser."""
    parser.add_argument("--no-xla", action="store_true", help=HELP)


def jit_compile_from_args(args):
    """`TrainingRun`'s `jit_compile`: `False` with `--no-xla`, else `"auto"`.

    Example:

    >>> import argparse
    >>> jit_compile_from_args(argparse.Namespace(no_xla=True)), jit_compile_from_args(argparse.Namespace(no_xla=False))
    (False, 'auto')
    """
    return False if args.no_xla else "auto"
