"""Where the GPT-char training step spends its time: keras_attn vs keras-hub, CPU and wall.

    python benchmarks/profile_gpt_step.py [--variants ours,hub,...] [--steps 60] [--rounds 10] [--ops]

The model of `benchmarks/applications/gpt_char.py` (4 blocks, width 128, 4 heads,
feed-forward 512, context 64, batch 12, 69 ids), trained with `model.fit` on random ids.
Variants (comma-separated):

- `ours`: `keras-attn gpt train`'s model (`build_gpt_model`: tied embedding, no padding mask)
  with its masked loss; `hub`: the same-size keras-hub stack of the benchmark;
- `issue`: the issue's hand-built stack: keras_attn's `TokenAndPositionEmbedding` with its
  default `mask_zero=True` + `TransformerDecoder` + `Dense`; `hub_dense`: keras-hub's twin;
- suffixes: `_noxla` (TensorFlow's graph), `_sgd` (plain SGD instead of AdamW + clipping),
  `_handgrad` (attention through the hand-written gradient under XLA too).

Each variant is warmed up (its first step: tracing and XLA compilation, timed), then the
variants alternate for `--rounds` rounds of `--steps` steps (order reversed every other
round). Reported per variant: the first step's wall and CPU seconds, and the median [min-max]
of wall and process-CPU milliseconds per step. CPU time is what to compare on a shared
machine: wall time there depends on what else runs. `--ops` also records a TensorFlow
profile of one round of the first variant and sums the XLA ops by kind (matrix products,
layer-norm reductions, elementwise fusions, ...).
"""

import argparse
import collections
import glob
import os
import re
import statistics
import sys
import tempfile
import time

VOCABULARY, LENGTH, WIDTH, LAYERS, HEADS, BATCH = 69, 64, 128, 4, 4, 12


def build(variant):
    import keras
    import keras_hub

    import keras_attn.ops.scaled_dot_product_attention as kernel
    from applications.text.gpt.model import GPTConfig, build_gpt_model
    from keras_attn.layers import TokenAndPositionEmbedding, TransformerDecoder
    from keras_attn.ops.xla_context import compiling_with_xla

    # Read when the step is traced (its first fit, right after this build).
    kernel.compiling_with_xla = (lambda: False) if "handgrad" in variant else compiling_with_xla
    base = variant.split("_")[0]
    if base == "ours":
        return build_gpt_model(GPTConfig(VOCABULARY, LENGTH, LAYERS, WIDTH, HEADS, 4 * WIDTH))
    token_ids = keras.Input((LENGTH,), dtype="int32")
    if base == "issue":
        embedding = TokenAndPositionEmbedding(VOCABULARY, LENGTH, WIDTH)  # mask_zero=True by default
        x = TransformerDecoder(LAYERS, num_heads=HEADS, intermediate_dim=4 * WIDTH)(embedding(token_ids))
        return keras.Model(token_ids, keras.layers.Dense(VOCABULARY)(x))
    embedding = keras_hub.layers.TokenAndPositionEmbedding(VOCABULARY, LENGTH, WIDTH, tie_weights=True)
    x = embedding(token_ids)
    for _ in range(LAYERS):
        x = keras_hub.layers.TransformerDecoder(4 * WIDTH, HEADS, normalize_first=True, layer_norm_epsilon=1e-5,
                                                activation="gelu")(x)
    x = keras.layers.LayerNormalization(epsilon=1e-5)(x)
    logits = keras.layers.Dense(VOCABULARY)(x) if "dense" in variant else embedding.token_embedding(x, reverse=True)
    return keras.Model(token_ids, logits)


def compile_model(model, variant):
    import keras

    from keras_attn.training import MaskedSparseCategoricalCrossentropy, warmup_cosine_decay

    if "sgd" in variant:
        optimizer = keras.optimizers.SGD(1e-3)
    else:  # the recipe of `gpt train`
        optimizer = keras.optimizers.AdamW(warmup_cosine_decay(1e-3, 2000, 100, 0.1), beta_2=0.99, epsilon=1e-8,
                                           weight_decay=0.1, global_clipnorm=1.0)
        optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    loss = (MaskedSparseCategoricalCrossentropy(ignore_class=-1) if variant.startswith("ours")
            else keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    steps = int(re.search(r"spe(\d+)", variant).group(1)) if "spe" in variant else 1
    model.compile(optimizer=optimizer, loss=loss, jit_compile="noxla" not in variant, steps_per_execution=steps)


def dataset():
    import numpy as np
    import tensorflow as tf

    ids = np.random.default_rng(0).integers(0, VOCABULARY, (BATCH * 50, LENGTH + 1)).astype("int32")
    return (tf.data.Dataset.from_tensor_slices((ids[:, :-1], ids[:, 1:])).batch(BATCH, drop_remainder=True)
            .repeat().prefetch(4))


def op_kinds(logdir, steps):
    """XLA op time per step by kind, summed over the threads of a TensorFlow profile."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    path = sorted(glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True))[-1]
    space = xplane_pb2.XSpace()
    with open(path, "rb") as file:
        space.ParseFromString(file.read())
    skip = ("ThunkExecutor", "Executor", "CpuExecutable", "BlockUntilReady", "Eager", "TFE_", "KernelAndDevice",
            "multi_step", "FunctionRun", "end:", "Slinky", "optional:")
    kinds = collections.Counter()
    for plane in space.planes:
        names = {key: value.name for key, value in plane.event_metadata.items()}
        for line in plane.lines:
            if "Eigen" not in line.name and "tf_Compute" not in line.name:
                continue
            for event in line.events:
                name = names.get(event.metadata_id, "?")
                if name.startswith(skip):
                    continue
                if re.match(r"(MatMul|dot|Einsum|BatchMatMul)", name):
                    kind = "matrix products (dot)"
                elif "reduce-window" in name or "reduce" in name:
                    kind = "reductions (layer-norm moments, sums)"
                elif "transpose" in name or "copy" in name:
                    kind = "transposes and copies"
                else:
                    kind = "elementwise fusions (GELU, softmax, norms, AdamW, ...)"
                kinds[kind] += event.duration_ps / 1e9 / steps
    return kinds


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", default="ours,hub,issue,hub_dense")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--ops", action="store_true", help="also profile the first variant's XLA ops")
    args = parser.parse_args(argv)
    if args.ops:  # before TensorFlow starts XLA: per-op trace events
        os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_cpu_enable_xprof_traceme=true"
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import keras
    import tensorflow as tf

    data = dataset()
    models, first = {}, {}
    for variant in args.variants.split(","):
        keras.utils.set_random_seed(0)
        model = build(variant)
        compile_model(model, variant)
        wall, cpu = time.perf_counter(), time.process_time()
        model.fit(data, steps_per_epoch=1, epochs=1, verbose=0)
        first[variant] = (time.perf_counter() - wall, time.process_time() - cpu)
        model.fit(data, steps_per_epoch=args.steps, epochs=1, verbose=0)
        models[variant] = model
    walls = {name: [] for name in models}
    cpus = {name: [] for name in models}
    names = list(models)
    for index in range(args.rounds):
        for name in names if index % 2 == 0 else reversed(names):
            wall, cpu = time.perf_counter(), time.process_time()
            models[name].fit(data, steps_per_epoch=args.steps, epochs=1, verbose=0)
            walls[name].append((time.perf_counter() - wall) / args.steps * 1000)
            cpus[name].append((time.process_time() - cpu) / args.steps * 1000)
    print(f"load average at the end: {' / '.join(f'{value:.1f}' for value in os.getloadavg())}")
    print("| variant | first step wall s | first step CPU s | wall ms/step | CPU ms/step |")
    print("|---|---|---|---|---|")
    for name in names:
        wall, cpu = walls[name], cpus[name]
        print(f"| {name} | {first[name][0]:.1f} | {first[name][1]:.1f} | {statistics.median(wall):.1f} "
              f"[{min(wall):.1f}-{max(wall):.1f}] | {statistics.median(cpu):.1f} [{min(cpu):.1f}-{max(cpu):.1f}] |")
    if args.ops:
        logdir = tempfile.mkdtemp(prefix="gpt_profile_")
        tf.profiler.experimental.start(logdir)
        models[names[0]].fit(data, steps_per_epoch=args.steps, epochs=1, verbose=0)
        tf.profiler.experimental.stop()
        kinds = op_kinds(logdir, args.steps)
        total = sum(kinds.values())
        print(f"\n{names[0]}: XLA op time per step, summed over threads: {total:.1f} ms")
        for kind, ms in kinds.most_common():
            print(f"- {kind}: {ms:.1f} ms ({ms / total:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
