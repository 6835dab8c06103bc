"""The seed's two claims for the Transformer over the RNN it replaced, measured.

    python benchmarks/applications/attention_history.py --budget-seconds 60 \\
        [--quick] [--out benchmarks/APPLICATIONS.md]

1. Parallel training. Seconds per training step (forward, backward, Adam update; XLA) of
   the Transformer and of the RNN with Bahdanau attention (`keras-attn text train
   --architecture transformer|rnn`'s models at the parameter-matched sizes of
   `translation_architectures.SIZES`), batch 32, source and target of `L` tokens, for `L`
   from 16 to 256 (random tokens, no padding). The RNN runs `L` dependent steps in each
   direction of its encoder and `L` in its decoder; the Transformer's layers see all
   positions at once. Contenders are timed in alternating rounds (median of rounds).
2. Long-range dependencies. Copy a random sequence of `L` symbols (20 symbols, `L` from 8
   to 64): the answer's token `i` is the source's token `i`, `L` steps before the decoder
   starts. After the same training budget each (`--budget-seconds`, counted from the end of
   the first step, `budget.py`), the exact-match rate of greedy copies of 500 held-out
   sequences, for the Transformer, the RNN with attention and an RNN without attention
   (the same bidirectional GRU encoder, its final states the only summary the GRU decoder
   gets: Cho et al. / Sutskever et al.'s encoder-decoder), all about 180 k parameters.

Both write a table, a chart (`benchmarks/attention_history_speed.png`,
`benchmarks/attention_history_copy.png`) and one section of `APPLICATIONS.md`.
"""

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

LOG = logging.getLogger("keras_attn.bench.applications")
SECTION = "attention-history"
SPEED_LENGTHS = (16, 32, 64, 128, 256)
COPY_LENGTHS = (8, 16, 32, 64)
NUM_SYMBOLS = 20
FIRST_SYMBOL = 4  # after PAD, UNK, START, END
BATCH = 32
COPY_TRAIN, COPY_TEST = 20000, 500
WARMUP_STEPS = 100
# --quick trains in TensorFlow's graph (no XLA: it compiles faster); the real run uses XLA.
QUICK = dict(speed_lengths=(8,), copy_lengths=(6,), rounds=1, steps_per_round=1, copy_train=64, copy_test=16,
             jit_compile=False)
FULL = dict(speed_lengths=SPEED_LENGTHS, copy_lengths=COPY_LENGTHS, rounds=5, steps_per_round=3,
            copy_train=COPY_TRAIN, copy_test=COPY_TEST, jit_compile=True)


def _sizes(quick):
    from translation_architectures import QUICK_SIZES, SIZES

    return QUICK_SIZES if quick else SIZES


def _compiled(model, architecture, dimensions, jit_compile=True):
    """Compiled as `keras-attn text train` compiles (no label smoothing: exact tasks)."""
    from translation_architectures import compile_like_the_task

    architecture = "rnn" if architecture == "rnn_without_attention" else architecture  # the RNN's recipe
    compile_like_the_task(model, architecture, dimensions, WARMUP_STEPS, label_smoothing=0.0, jit_compile=jit_compile)
    return model


def _model(architecture, dimensions, vocabulary_size, max_length, dropout_rate=0.0):
    from applications.text.translation.model import build_translator_model
    from applications.text.translation.sizes import model_config

    if architecture == "rnn_without_attention":
        return build_rnn_without_attention(vocabulary_size, dimensions["hidden_dim"]), None
    config = model_config("tiny", vocabulary_size=vocabulary_size, max_length=max_length, dropout_rate=dropout_rate,
                          architecture=architecture, **dimensions)
    return build_translator_model(config), config


# -- 1. seconds per training step ---------------------------------------------------------


def speed(plan, sizes, vocabulary_size=1000):
    """`[{length, architecture: seconds per step}]`."""
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    rows = []
    for length in plan["speed_lengths"]:
        ids = rng.integers(FIRST_SYMBOL, vocabulary_size, size=(BATCH, length)).astype("int32")
        inputs, labels = {"encoder_token_ids": ids, "decoder_token_ids": ids}, ids
        models = {}
        for architecture in ("transformer", "rnn"):
            keras.utils.set_random_seed(0)
            model, _ = _model(architecture, sizes[architecture], vocabulary_size, length)
            models[architecture] = _compiled(model, architecture, sizes[architecture], plan["jit_compile"])
            for _ in range(2):  # compile, warm up
                models[architecture].train_on_batch(inputs, labels)
        times = {name: [] for name in models}
        for _ in range(plan["rounds"]):  # alternating rounds: both see the same background load
            for name, model in models.items():
                started = time.perf_counter()
                for _ in range(plan["steps_per_round"]):
                    model.train_on_batch(inputs, labels)
                times[name].append((time.perf_counter() - started) / plan["steps_per_round"])
        row = dict(length=length, **{name: statistics.median(values) for name, values in times.items()})
        LOG.info("speed: %s", row)
        rows.append(row)
    return rows


# -- 2. copying a random sequence ---------------------------------------------------------


def build_rnn_without_attention(vocabulary_size, hidden_dim):
    """The encoder-decoder before attention: a bidirectional GRU reads the source; its two final
    states, through a dense bridge, are the GRU decoder's initial state, the only thing it
    knows of the source. Logits through the tied token table."""
    import keras

    from applications.text.translation.model import model_inputs

    encoder_ids, decoder_ids = model_inputs()
    embedding = keras.layers.ReversibleEmbedding(vocabulary_size, hidden_dim, mask_zero=True, name="embedding")
    _, forward, backward = keras.layers.Bidirectional(keras.layers.GRU(hidden_dim, return_state=True),
                                                      name="encoder")(embedding(encoder_ids))
    state = keras.layers.Dense(2 * hidden_dim, activation="tanh", name="bridge")(
        keras.layers.Concatenate()([forward, backward]))
    decoded = keras.layers.GRU(2 * hidden_dim, return_sequences=True, name="decoder")(embedding(decoder_ids),
                                                                                      initial_state=state)
    outputs = keras.layers.Dense(hidden_dim, activation="tanh", name="output")(decoded)
    return keras.Model({"encoder_token_ids": encoder_ids, "decoder_token_ids": decoder_ids},
                       embedding(outputs, reverse=True), name="rnn_without_attention")


class _WithoutAttentionDecoding:
    """`initial_cache` / `step` of `build_rnn_without_attention` (the GRU state is the cache)."""

    def __init__(self, model):
        self.embedding, self.encoder = model.get_layer("embedding"), model.get_layer("encoder")
        self.bridge, self.output = model.get_layer("bridge"), model.get_layer("output")
        self.cell = model.get_layer("decoder").cell

    def initial_cache(self, source_ids, max_length):
        from keras import ops

        _, forward, backward = self.encoder(self.embedding(source_ids), mask=ops.not_equal(source_ids, 0))
        return self.bridge(ops.concatenate([forward, backward], axis=-1))

    def step(self, token_ids, state, index):
        hidden, _ = self.cell(self.embedding(token_ids)[:, 0], [state])
        return self.embedding(self.output(hidden), reverse=True), hidden


def copy_data(length, count, seed):
    """`(source ids (N, L + 1), decoder inputs (N, L + 1), labels (N, L + 1))`: copy L random symbols."""
    import numpy as np

    from applications.text.tokenizer import END_ID, START_ID

    symbols = np.random.default_rng(seed).integers(FIRST_SYMBOL, FIRST_SYMBOL + NUM_SYMBOLS, size=(count, length))
    column = lambda value: np.full((count, 1), value)  # noqa: E731
    source = np.concatenate([symbols, column(END_ID)], axis=1).astype("int32")
    return source, np.concatenate([column(START_ID), symbols], axis=1).astype("int32"), source.copy()


def _greedy_copies(decoding, source, max_length, jit_compile, batch=100):
    import numpy as np
    import tensorflow as tf

    from applications.text.tokenizer import END_ID, PAD_ID, START_ID
    from keras_attn import generation

    def generate(ids):
        start = tf.fill([tf.shape(ids)[0]], START_ID)
        cache = decoding.initial_cache(ids, max_length)
        return generation.greedy_search(decoding.step, start, cache, max_length, end_id=END_ID, pad_id=PAD_ID)

    compiled = tf.function(generate, jit_compile=jit_compile)
    return np.concatenate([compiled(tf.constant(source[i : i + batch])).numpy()
                           for i in range(0, len(source), batch)])


def copy_task(plan, sizes, budget_seconds):
    """`[{length, architecture: {exact_match, steps}}]` after `budget_seconds` of training each."""
    import keras
    import numpy as np
    import tensorflow as tf

    from applications.text.translation.decoding import decoding_for
    from budget import fit_for_budget

    vocabulary_size = FIRST_SYMBOL + NUM_SYMBOLS
    rows = []
    for length in plan["copy_lengths"]:
        source, inputs, labels = copy_data(length, plan["copy_train"], seed=length)
        test_source, _, _ = copy_data(length, plan["copy_test"], seed=10_000 + length)
        row = dict(length=length)
        for architecture in ("transformer", "rnn", "rnn_without_attention"):
            keras.utils.set_random_seed(0)
            dimensions = sizes["rnn" if architecture == "rnn_without_attention" else architecture]
            model, config = _model(architecture, dimensions, vocabulary_size, length + 1)
            _compiled(model, architecture, dimensions, plan["jit_compile"])
            dataset = tf.data.Dataset.from_tensor_slices(
                ({"encoder_token_ids": source, "decoder_token_ids": inputs}, labels)
            ).shuffle(len(source), seed=0).batch(BATCH, drop_remainder=True)
            trained = fit_for_budget(model, dataset, budget_seconds, out_dir=tempfile.mkdtemp(prefix="copy_"))
            decoding = _WithoutAttentionDecoding(model) if config is None else decoding_for(model, config)
            copies = _greedy_copies(decoding, test_source, length + 1, plan["jit_compile"])
            exact = float(np.mean(np.all(copies[:, 1:] == test_source[:, :length], axis=1)))
            row[architecture] = dict(exact_match=exact, steps=trained["steps"], parameters=int(model.count_params()))
            LOG.info("copy L=%d %s: exact match %.3f after %d steps", length, architecture, exact, trained["steps"])
        rows.append(row)
    return rows


# -- report -------------------------------------------------------------------------------


def charts(speed_rows, copy_rows, out_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    figure, axis = plt.subplots(figsize=(5.5, 3.8))
    lengths = [row["length"] for row in speed_rows]
    for name, label in (("transformer", "Transformer"), ("rnn", "RNN + Bahdanau attention")):
        axis.plot(lengths, [row[name] for row in speed_rows], marker="o", label=label)
    axis.set_xscale("log", base=2)
    axis.set_yscale("log")
    axis.set_xlabel("sequence length (tokens, source and target)")
    axis.set_ylabel("seconds per training step")
    axis.set_title(f"Training step, batch {BATCH}, CPU")
    axis.legend()
    figure.tight_layout()
    paths.append(Path(out_dir) / "attention_history_speed.png")
    figure.savefig(paths[-1], dpi=110)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(5.5, 3.8))
    lengths = [row["length"] for row in copy_rows]
    for name, label in (("transformer", "Transformer"), ("rnn", "RNN + attention"),
                        ("rnn_without_attention", "RNN without attention")):
        axis.plot(lengths, [row[name]["exact_match"] for row in copy_rows], marker="o", label=label)
    axis.set_xscale("log", base=2)
    axis.set_ylim(-0.02, 1.02)
    axis.set_xlabel("sequence length to copy")
    axis.set_ylabel("exact-match rate (held-out)")
    axis.set_title("Copying a random sequence, same training budget")
    axis.legend()
    figure.tight_layout()
    paths.append(Path(out_dir) / "attention_history_copy.png")
    figure.savefig(paths[-1], dpi=110)
    plt.close(figure)
    return paths


def render(speed_rows, copy_rows, machine, budget, quick, wall_seconds, pictures, sizes, plan):
    from sections import markdown_table, number
    from translation_architectures import describe

    lines = ["## What the Transformer bought: parallel training and long-range dependencies", ""]
    if quick:
        lines += ["**`--quick` run: tiny models and data. These numbers check that the code runs; they measure "
                  "nothing.**", ""]
    lines += [
        f"- date: {machine['date']}; machine: {machine['machine']}; {machine['versions']}",
        "- load average (1/5/15 min) at start: " + " / ".join(f"{v:.2f}" for v in machine["load"])
        + " (a shared machine)",
        f"- command: `{machine['command']}`; wall time {wall_seconds / 60:.1f} min",
        f"- models: `transformer` {describe('transformer', sizes['transformer'])}; `rnn` "
        f"{describe('rnn', sizes['rnn'])} (the parameter-matched sizes of the section above)",
        "",
        f"### 1. Seconds per training step as the sequence grows (batch {BATCH}, "
        f"{'XLA' if plan['jit_compile'] else 'no XLA'})",
        "",
    ]
    speed_table = [[row["length"], number(row["transformer"]), number(row["rnn"]),
                    f"{row['rnn'] / row['transformer']:.1f}x"] for row in speed_rows]
    lines += [markdown_table(["tokens (source = target)", "transformer s/step", "rnn + attention s/step",
                              "rnn / transformer"], speed_table), "", f"![speed]({pictures[0].name})", ""]
    lines += [
        f"### 2. Copying a random sequence ({NUM_SYMBOLS} symbols): held-out exact match after {budget:g} s of "
        "training each", "",
    ]
    names = ("transformer", "rnn", "rnn_without_attention")
    copy_table = [[row["length"]] + [f"{number(row[name]['exact_match'])} ({row[name]['steps']} steps)"
                                     for name in names] for row in copy_rows]
    parameters = ", ".join(f"{name} {copy_rows[0][name]['parameters']}" for name in names)
    lines += [markdown_table(["length", "transformer", "rnn + attention", "rnn without attention"], copy_table), "",
              f"Parameters: {parameters}. {plan['copy_train']} training sequences per length, {plan['copy_test']} "
              "held-out; greedy decoding.", "", f"![copy]({pictures[1].name})", ""]
    lines += ["Reproduce with the command above. One run each, no repeats.", ""]
    return "\n".join(lines)


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget-seconds", type=float, default=60.0,
                        help="training seconds per model and length in the copy task")
    parser.add_argument("--quick", action="store_true", help="tiny models and lengths: checks the code runs")
    parser.add_argument("--out", default=str(HERE.parent / "APPLICATIONS.md"), help="the Markdown report")
    parser.add_argument("--pictures", default=None, help="folder of the charts (default: next to --out)")
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    from budget import machine_facts
    from sections import write_section

    machine = machine_facts()
    plan, sizes = (QUICK if args.quick else FULL), _sizes(args.quick)
    started = time.perf_counter()
    speed_rows = speed(plan, sizes)
    copy_rows = copy_task(plan, sizes, args.budget_seconds)
    pictures = charts(speed_rows, copy_rows, args.pictures or Path(args.out).parent)
    text = render(speed_rows, copy_rows, machine, args.budget_seconds, args.quick, time.perf_counter() - started,
                  pictures, sizes, plan)
    write_section(args.out, SECTION, text)
    for row in speed_rows:
        sys.stdout.write(f"speed L={row['length']}: transformer {row['transformer']:.4f} s, rnn {row['rnn']:.4f} s\n")
    for row in copy_rows:
        sys.stdout.write(f"copy L={row['length']}: " + ", ".join(
            f"{name} {row[name]['exact_match']:.3f}" for name in ("transformer", "rnn", "rnn_without_attention"))
            + "\n")
    sys.stdout.write(f"wrote {args.out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
