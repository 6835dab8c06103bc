"""Which attention kernel a non-causal encoder block should take under XLA on CPU
(the measurement behind the "XLA, encoder block" notes in analysis.md).

    python benchmarks/kernel_choice.py [--lengths 256,1024] [--repeats 15] [--part block|attention]

Times the training step (forward, backward, SGD; `jit_compile=True`) of
keras_attn's `TransformerEncoderBlock` (or its `MultiHeadAttention` alone,
`--part attention`) with each kernel of `scaled_dot_product_attention` forced,
next to keras-hub's `TransformerEncoder` (`keras.layers.MultiHeadAttention`),
batch 8, width 256, 8 heads, feed-forward 1024, no mask. All contenders in one
process, interleaved (order reversed every round), `--repeats` rounds. Prints,
per contender, the median time and its min-max, and the paired ratio: the
default's time over the contender's within each round (the two ran seconds
apart, so load from other processes mostly cancels), median and quartiles.

Kernels: "weights" (today's default here: one pass, automatic
differentiation, `(B, T, H, D)`), "one pass" (the hand-written gradient,
`(B, H, T, D)`), "blocks of N" (query blocks with the hand-written gradient),
"fused" (keras' `dot_product_attention`, automatic differentiation).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import make_train_step  # noqa: E402

BLOCKS = {256: (64, 128), 512: (64, 128, 256), 1024: (64, 128, 256)}


def _kernels(length):
    from keras_attn.ops.attention_route import Route

    kernels = {"weights (default)": Route("weights"), "one pass": Route("one_pass"), "fused": Route("fused", flash=False)}
    for block in BLOCKS.get(length, ()):
        kernels[f"blocks of {block}"] = Route("query_blocks", block=block)
    return kernels


def _forced(route):
    """A stand-in for `attention_route.route` that always answers `route` (read at trace time)."""
    return lambda *args, **kwargs: route


def contenders(length, part):
    import keras
    import keras_hub
    import numpy as np
    import tensorflow as tf

    from keras_attn.layers import MultiHeadAttention, TransformerEncoderBlock
    from keras_attn.ops import attention_route

    inputs = tf.constant(np.random.default_rng(0).normal(size=(8, length, 256)).astype("float32"))
    steps = {}
    real_route = attention_route.route
    for name, route in _kernels(length).items():
        keras.utils.set_random_seed(0)
        layer = TransformerEncoderBlock(8, 1024) if part == "block" else MultiHeadAttention(8, 32)
        forward = layer if part == "block" else (lambda layer: lambda x: layer(x, x))(layer)
        forward(inputs)  # build
        step = make_train_step(forward, layer.trainable_variables, jit_compile=True)
        attention_route.route = _forced(route)
        try:
            step(inputs)  # traces and compiles with this kernel
        finally:
            attention_route.route = real_route
        steps[name] = (lambda step: lambda: step(inputs))(step)
    keras.utils.set_random_seed(0)
    if part == "block":
        theirs = keras_hub.layers.TransformerEncoder(1024, 8, activation="gelu", normalize_first=True,
                                                     layer_norm_epsilon=1e-5)
        forward = theirs
    else:
        theirs = keras.layers.MultiHeadAttention(8, 32)
        forward = lambda x: theirs(x, x)  # noqa: E731
    forward(inputs)
    step = make_train_step(forward, theirs.trainable_variables, jit_compile=True)
    steps["keras-hub / keras"] = lambda: step(inputs)
    return steps


def interleaved(steps, repeats, warmup=2):
    """All times per contender (s), rounds interleaved, order reversed every other round."""
    for fn in steps.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in steps}
    names = list(steps)
    for index in range(repeats):
        for name in names if index % 2 == 0 else reversed(names):
            start = time.perf_counter()
            steps[name]()
            times[name].append(time.perf_counter() - start)
    return times


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lengths", default="256,1024")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--part", choices=("block", "attention"), default="block")
    args = parser.parse_args(argv)
    lines = [
        f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}",
        "",
        f"| seq | {args.part} kernel | median (ms) | min-max (ms) | default / this, paired: median (quartiles) |",
        "|---|---|---|---|---|",
    ]
    for length in (int(x) for x in args.lengths.split(",")):
        times = interleaved(contenders(length, args.part), args.repeats)
        default = times["weights (default)"]
        for name, values in times.items():
            ratios = [d / v for d, v in zip(default, values)]
            low, mid, high = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
            lines.append(
                f"| {length} | {name} | {1e3 * statistics.median(values):.1f} "
                f"| {1e3 * min(values):.1f}-{1e3 * max(values):.1f} | {mid:.2f}x ({low:.2f}-{high:.2f}) |"
            )
    lines.append(f"\nload average at end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
