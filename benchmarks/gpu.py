"""GPU benchmark: a multi-head attention training step, keras_attn vs
keras.layers.MultiHeadAttention with flash attention on and off (JAX).

    KERAS_BACKEND=jax python benchmarks/gpu.py           # the table, under 8 min on one GPU
    KERAS_BACKEND=jax python benchmarks/gpu.py --smoke   # tiny sizes on any device (the test)

Self-attention, causal and not, batch 8, width 1024, 16 heads (head size 64),
sequence 1024, 4096 and 16384, `mixed_bfloat16` (float32 weights, bfloat16
compute). A train step is one `jax.jit` function per contender: forward,
mean-square loss, backward, SGD update. keras_attn runs with its defaults
(`implementation="auto"`: on a GPU, keras' `dot_product_attention` with cuDNN
flash attention where cuDNN runs the call); keras with
`flash_attention=True` and with flash attention disabled. The contenders of a
case are timed interleaved (`common.interleaved_median`): median of
`--repeats` rounds after two warm-up steps.

Peak device memory is XLA's buffer assignment for the compiled step
(arguments + outputs + temporaries - aliased): what the step needs on the
device, per contender, independent of what ran before in the process. A
contender that fails to compile or run for lack of memory is reported as out
of memory.

Targets: keras_attn at least 1.0x keras' best setting at every length, and no
out-of-memory where keras' flash path runs.

Writes the GPU section of `--out` (benchmarks/RESULTS.md) and
`gpu_results.json` beside it; `keras-attn bench` keeps that section when it
rewrites RESULTS.md. Needs only JAX and keras: no TensorFlow, no keras-hub
(keras-hub imports TensorFlow when it is installed, so it is left out).
"""

import argparse
import datetime
import json
import logging
import os
import shlex
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from common import interleaved_median  # noqa: E402

LOG = logging.getLogger("keras_attn.bench.gpu")
FULL = dict(batch=8, width=1024, heads=16, lengths=(1024, 4096, 16384))
SMOKE = dict(batch=2, width=32, heads=4, lengths=(16,))
DTYPE_POLICY = "mixed_bfloat16"
CONTENDERS = ("keras_attn", "keras flash", "keras no flash")
BUDGET_SECONDS = 420  # no new case starts after 7 minutes (the run must end within 8)
TARGET = 1.0


def _is_out_of_memory(error):
    text = f"{type(error).__name__}: {error}".lower()
    return any(word in text for word in ("resource_exhausted", "out of memory", "resourceexhausted", "oom"))


def _layer(contender, heads, width):
    import keras

    from keras_attn.layers import MultiHeadAttention

    key_dim = width // heads
    if contender == "keras_attn":
        return MultiHeadAttention(heads, key_dim, dtype=DTYPE_POLICY)
    # Flash attention is disabled process-wide (main), so `flash_attention=False`
    # stays off; `True` asks keras for it explicitly.
    return keras.layers.MultiHeadAttention(heads, key_dim, flash_attention=contender == "keras flash",
                                           dtype=DTYPE_POLICY)


def _train_step(layer, inputs, causal):
    """A blocking `step()` and the compiled step's peak device memory in bytes."""
    import jax
    import jax.numpy as jnp

    layer(inputs[:1], inputs[:1], use_causal_mask=causal)  # build
    state = [[v.value for v in layer.trainable_variables], [v.value for v in layer.non_trainable_variables]]

    def loss_fn(trainable, non_trainable, x):
        out, non_trainable = layer.stateless_call(trainable, non_trainable, x, x, use_causal_mask=causal,
                                                  training=True)
        return jnp.mean(jnp.square(out.astype("float32"))), non_trainable

    def step(trainable, non_trainable, x):
        (loss, non_trainable), grads = jax.value_and_grad(loss_fn, has_aux=True)(trainable, non_trainable, x)
        trainable = [w - 1e-4 * g.astype(w.dtype) for w, g in zip(trainable, grads)]
        return loss, trainable, non_trainable

    compiled = jax.jit(step, donate_argnums=(0, 1)).lower(*state, inputs).compile()
    memory = compiled.memory_analysis()
    peak = None
    if memory is not None:
        peak = (memory.argument_size_in_bytes + memory.output_size_in_bytes + memory.temp_size_in_bytes
                - memory.alias_size_in_bytes)

    def run():
        loss, state[0], state[1] = compiled(*state, inputs)
        loss.block_until_ready()

    return run, peak


def _route(batch, length, heads, width, causal):
    """The kernel keras_attn's default picks for this call on this device."""
    import jax.numpy as jnp

    from keras_attn.ops import attention_route

    q = jnp.zeros((1, length, heads, width // heads), "bfloat16")
    chosen = attention_route.route("auto", q, q, q, mask=None, bias=None, is_causal=causal, dropout=False,
                                   return_weights=False, chunk_size=None)
    flash = {True: ", flash", False: "", None: ""}[chosen.flash]
    return chosen.kernel + flash + (f", blocks of {chosen.block}" if chosen.block else "")


def run_case(size, length, causal, repeats):
    """One row: times (s) and peak memory (bytes) per contender, or why it did not run."""
    import jax
    import keras
    import numpy as np

    batch, width, heads = size["batch"], size["width"], size["heads"]
    inputs = jax.numpy.asarray(np.random.default_rng(0).normal(size=(batch, length, width)), "bfloat16")
    steps, peaks, failures, errors = {}, {}, {}, {}
    for contender in CONTENDERS:
        keras.utils.set_random_seed(0)
        try:
            steps[contender], peaks[contender] = _train_step(_layer(contender, heads, width), inputs, causal)
            steps[contender]()  # runs once: out-of-memory shows here, before the timing
        except Exception as error:  # noqa: BLE001 (reported in the table)
            steps.pop(contender, None)
            failures[contender] = "out of memory" if _is_out_of_memory(error) else f"failed: {type(error).__name__}"
            errors[contender] = " ".join(str(error).split())[:500]
            LOG.warning("%s, seq %d, causal=%s: %s", contender, length, causal, errors[contender])
    times = interleaved_median(steps, repeats) if steps else {}
    return dict(length=length, causal=causal, times=times, peaks=peaks, failures=failures, errors=errors,
                route=_route(batch, length, heads, width, causal))


def machine_facts():
    import jax
    import keras

    device = jax.devices()[0]
    facts = dict(
        date=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        device=f"{len(jax.devices())} x {getattr(device, 'device_kind', device.platform)} ({device.platform})",
        jax=jax.__version__, keras=keras.__version__, python=sys.version.split()[0],
    )
    stats = device.memory_stats() if hasattr(device, "memory_stats") else None
    if stats and "bytes_limit" in stats:
        facts["device_memory_gb"] = round(stats["bytes_limit"] / 1e9, 1)
    return facts


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check that the script runs (any device)")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds per contender (default 10, smoke 1)")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"), help="the report whose GPU section is written")
    parser.add_argument("--budget-seconds", type=float, default=BUDGET_SECONDS,
                        help="start no new case after this many seconds")
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    import keras

    if keras.backend.backend() != "jax":
        raise SystemExit(f"benchmarks/gpu.py needs KERAS_BACKEND=jax. Received: backend={keras.backend.backend()}")
    keras.config.disable_flash_attention()
    import report

    size = SMOKE if args.smoke else FULL
    repeats = args.repeats or (1 if args.smoke else 10)
    started = time.perf_counter()
    rows, skipped = [], []
    for length in size["lengths"]:
        for causal in (True, False):
            if time.perf_counter() - started > args.budget_seconds:
                skipped.append(f"seq {length}, {'causal' if causal else 'not causal'}")
                continue
            rows.append(run_case(size, length, causal, repeats))
            LOG.info("seq %d causal=%s: %s", length, causal, rows[-1])
    command = "KERAS_BACKEND=jax python benchmarks/gpu.py " + " ".join(
        shlex.quote(arg) for arg in (argv if argv is not None else sys.argv[1:])
    )
    record = dict(rows=rows, skipped=skipped, size=size, smoke=args.smoke, repeats=repeats, command=command.strip(),
                  seconds=round(time.perf_counter() - started, 1), facts=machine_facts(), target=TARGET,
                  dtype_policy=DTYPE_POLICY)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    (out.parent / report.GPU_RECORD).write_text(json.dumps(record, indent=1))
    report.write_gpu_section(out, record)
    sys.stdout.write(report.gpu_markdown(record) + f"\nwrote {out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
