"""Where an encoder block's training step spends its time (the profile behind
benchmark 2's ratios).

    python benchmarks/profile_block.py [--lengths 256,1024] [--repeats 7] [--xla] [--causal]

Times a training step (forward, backward, SGD) of each part alone, keras_attn
and keras-hub side by side, batch 8, width 256, 8 heads, feed-forward 1024:
the attention sublayer (causal with `--causal`; then the feed-forward and
block rows are skipped), its projections alone (attention replaced by a
trivial op), the feed-forward sublayer (Dense-GELU-Dense), and the whole
block. Prints a Markdown table.
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import interleaved_median, make_train_step  # noqa: E402


def parts(length, jit_compile, causal=False):
    import keras
    import keras_hub
    import numpy as np
    import tensorflow as tf

    from keras_attn.layers import FeedForward, MultiHeadAttention, TransformerEncoderBlock

    inputs = tf.constant(np.random.default_rng(0).normal(size=(8, length, 256)).astype("float32"))
    hub_block = keras_hub.layers.TransformerEncoder(
        1024, 8, activation="gelu", normalize_first=True, layer_norm_epsilon=1e-5
    )
    class ProjectionsOnly(keras.layers.MultiHeadAttention):
        """Keras MHA with attention replaced by an elementwise op: the cost around attention."""

        def _compute_attention(self, query, key, value, *args, **kwargs):
            return query * key + value, None

    candidates = {
        "attention": (MultiHeadAttention(8, 32), keras.layers.MultiHeadAttention(8, 32)),
        "projections only": (ProjectionsOnly(8, 32), ProjectionsOnly(8, 32)),
        "feed-forward": (
            FeedForward(1024),
            keras.Sequential([keras.layers.Dense(1024, activation="gelu"), keras.layers.Dense(256)]),
        ),
        "whole block": (TransformerEncoderBlock(8, 1024), hub_block),
    }
    if causal:
        candidates = {part: candidates[part] for part in ("attention", "projections only")}
    rows = {}
    for part, (ours, theirs) in candidates.items():
        steps = {}
        for name, layer in (("keras_attn", ours), ("other", theirs)):
            attention = part in ("attention", "projections only")
            forward = (
                (lambda layer: lambda x: layer(x, x, use_causal_mask=causal))(layer) if attention else layer
            )
            forward(inputs)  # build
            step = make_train_step(forward, layer.trainable_variables, jit_compile)
            steps[name] = (lambda step: lambda: step(inputs))(step)
        rows[part] = steps
    return rows


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lengths", default="256,1024")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--xla", action="store_true")
    parser.add_argument("--causal", action="store_true", help="time the attention sublayer with a causal mask")
    args = parser.parse_args(argv)
    lines = [
        "| seq | part | keras_attn (ms) | keras / keras-hub (ms) | advantage |",
        "|---|---|---|---|---|",
    ]
    for length in (int(x) for x in args.lengths.split(",")):
        for part, steps in parts(length, args.xla, args.causal).items():
            times = interleaved_median(steps, args.repeats)
            lines.append(
                f"| {length} | {part}{' (causal)' if args.causal else ''} | {1e3 * times['keras_attn']:.1f} | {1e3 * times['other']:.1f} "
                f"| {times['other'] / times['keras_attn']:.2f}x |"
            )
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
