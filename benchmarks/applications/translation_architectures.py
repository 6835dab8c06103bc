"""What the Transformer bought, on the shipped Bible pairs: transformer vs t5 vs rnn after the
same CPU time budget, at about the same parameter count.

    python benchmarks/applications/translation_architectures.py --budget-seconds 240 \\
        [--quick] [--out benchmarks/APPLICATIONS.md]

Data: `data/text/bible_en_es_short.tsv.gz` (English -> Spanish, the split of `keras-attn
text train` with `validation_fraction=0.05`), scored on the 300 held-out verses of
`data/text/bible_en_es_test.tsv` (sacrebleu corpus BLEU and chrF, greedy decoding over each
architecture's cache).

The three contenders are `keras-attn text train --architecture transformer|t5|rnn`'s models
(`applications.text.translation.model.build_translator_model`), sized so that their
parameter counts are within 10% of the Transformer's (the demo's `tiny` size: 2+2 layers,
width 64, 4 heads, feed-forward 128): T5's gated feed-forward is narrower (`SIZES["t5"]`),
the RNN has one bidirectional GRU layer of 72 units per direction and a 72-unit attentive
GRU decoder (72-wide token table). They share the SentencePiece vocabulary (trained once), the batches
(`make_dataset`, same seed), the loss (label smoothing 0.1, padding ignored), dropout 0.1
and the task's loss, metric and optimizer (`compile_like_the_task`: the recipe of `keras-attn
text train`, Adam (0.9, 0.98, 1e-9) with the warm-up / inverse-square-root schedule, its
peak the task's default for each architecture, T5's lower, see task.py), with a fixed
warm-up (`WARMUP_STEPS`: the number of steps is not known in advance). Training goes through
`TrainingRun.fit` with XLA and stops after the budget (`budget.py`: counted from the end of
the first step).

Reported per contender: parameters, train steps and epochs done, training tokens/s (real,
non-padding target tokens; source tokens are about as many), the last epoch's loss, BLEU
and chrF.
"""

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

LOG = logging.getLogger("keras_attn.bench.applications")
ARCHITECTURES = ("transformer", "t5", "rnn")
SECTION = "translation-architectures"
WARMUP_STEPS = 200

COMMON = dict(batch_size=32, max_length=32, vocabulary_size=1000, dropout_rate=0.1, label_smoothing=0.1,
              test_pairs=None, train_pairs=None, decode_batch=100)
SIZES = {  # dimensions per architecture, parameter counts within 10% of the Transformer's
    "transformer": dict(num_layers=2, hidden_dim=64, num_heads=4, intermediate_dim=128),
    "t5": dict(num_layers=2, hidden_dim=64, num_heads=4, intermediate_dim=96),
    "rnn": dict(num_layers=1, hidden_dim=72, num_heads=4, intermediate_dim=128),
}
QUICK = dict(COMMON, batch_size=16, vocabulary_size=200, test_pairs=16, train_pairs=400, decode_batch=16)
QUICK_SIZES = {name: dict(dims, hidden_dim=16, num_heads=2, num_layers=1) for name, dims in SIZES.items()}


def describe(architecture, dimensions):
    """`"2+2 x 64, 4 heads, ff 128"`, or the RNN's `"1 bi-GRU + 1 GRU, 72 units"`."""
    if architecture.startswith("rnn"):
        return f"{dimensions['num_layers']} bi-GRU + 1 GRU, {dimensions['hidden_dim']} units"
    return (f"{dimensions['num_layers']}+{dimensions['num_layers']} x {dimensions['hidden_dim']}, "
            f"{dimensions['num_heads']} heads, ff {dimensions['intermediate_dim']}")


def compile_like_the_task(model, architecture, dimensions, warmup_steps, label_smoothing=0.1, jit_compile=True):
    """Compile `model` with the loss, metric and optimizer of `keras-attn text train --architecture
    ARCHITECTURE` (its recipe and default peak; `warmup_steps` fixed, no horizon); returns the peak."""
    from applications.skeleton.optimization import build_optimizer, learning_rate_schedule
    from applications.skeleton.settings import resolve_settings
    from applications.skeleton.task import TaskData
    from applications.text.translation.task import TranslationTask

    task = TranslationTask()
    settings = resolve_settings(task, data="-", out="-", architecture=architecture, size="tiny",
                                warmup_steps=warmup_steps, label_smoothing=label_smoothing, epochs=10**6, **dimensions)
    loss, metrics = task.loss_and_metrics(settings, TaskData(train=None))
    model.compile(optimizer=build_optimizer(task, settings, steps_per_epoch=1), loss=loss, metrics=metrics,
                  jit_compile=jit_compile)
    return learning_rate_schedule(task, settings, steps_per_epoch=1)[1]


def _contender(architecture, dimensions, common, tokenizer):
    """The model (compiled), its `ModelConfig` and its peak learning rate."""
    from applications.text.translation.model import build_translator_model
    from applications.text.translation.sizes import model_config

    config = model_config("tiny", vocabulary_size=tokenizer.vocabulary_size, max_length=common["max_length"],
                          dropout_rate=common["dropout_rate"], architecture=architecture, **dimensions)
    model = build_translator_model(config)
    peak = compile_like_the_task(model, architecture, dimensions, WARMUP_STEPS, common["label_smoothing"])
    return model, config, peak


def run(budget_seconds, quick=False):
    """Train the three contenders for `budget_seconds` each; returns `(rows, facts)`."""
    import keras
    import numpy as np

    from applications import datasets
    from applications.text.tokenizer import SubwordTokenizer
    from applications.text.translation.data import filter_by_length, make_dataset, read_pairs, split_pairs
    from applications.text.translation.evaluate import score_translations
    from applications.text.translation.translator import Translator
    from budget import fit_for_budget

    common, sizes = (QUICK, QUICK_SIZES) if quick else (COMMON, SIZES)
    paths = datasets.bible_en_es_paths()
    pairs = read_pairs(str(paths["short"]))[: common["train_pairs"]]
    test_pairs = read_pairs(str(paths["test"]))[: common["test_pairs"]]
    train_pairs, _, _ = split_pairs(pairs, 0.05, 0.0, seed=0)  # the split of `keras-attn text train`
    keras.utils.set_random_seed(0)
    tokenizer = SubwordTokenizer.train([s for pair in train_pairs for s in pair], common["vocabulary_size"])
    train_pairs = filter_by_length(train_pairs, tokenizer, common["max_length"])
    steps_per_epoch = len(train_pairs) // common["batch_size"]
    # Real target tokens per pair (pieces + the end token), for tokens/s.
    target_tokens = float(np.mean(tokenizer.tokenize([t for _, t in train_pairs]).row_lengths().numpy()) + 1)
    sources, references = [s for s, _ in test_pairs], [t for _, t in test_pairs]

    rows = []
    for architecture in ARCHITECTURES:
        keras.utils.set_random_seed(0)
        dataset = make_dataset(train_pairs, tokenizer, common["batch_size"], common["max_length"], shuffle=True,
                               seed=0)
        model, config, peak = _contender(architecture, sizes[architecture], common, tokenizer)
        LOG.info("%s: %d parameters, peak learning rate %.4g, budget %.0f s.", architecture, model.count_params(),
                 peak, budget_seconds)
        trained = fit_for_budget(model, dataset, budget_seconds,
                                 out_dir=tempfile.mkdtemp(prefix=f"translation_{architecture}_"))
        started = time.perf_counter()
        hypotheses = Translator(model, tokenizer, config).translate(sources, batch_size=common["decode_batch"])
        decode_seconds = time.perf_counter() - started
        scores = score_translations(hypotheses, references)
        LOG.info("%s: %s; BLEU %.2f; e.g. %r", architecture, trained, scores["bleu"], hypotheses[0])
        rows.append(dict(
            architecture=architecture, parameters=int(model.count_params()), dimensions=sizes[architecture],
            steps=trained["steps"], epochs=trained["steps"] / steps_per_epoch,
            steps_per_second=trained["steps_per_second"],
            tokens_per_second=trained["steps_per_second"] * common["batch_size"] * target_tokens,
            first_step_seconds=trained["first_step_seconds"], loss=trained["loss"], peak_learning_rate=peak,
            bleu=scores["bleu"], chrf=scores["chrf"], decode_seconds=decode_seconds, sample=hypotheses[0],
        ))
    facts = dict(train_pairs=len(train_pairs), test_pairs=len(test_pairs), vocabulary=tokenizer.vocabulary_size,
                 target_tokens=target_tokens, common=common)
    return rows, facts


def render(rows, facts, machine, budget, quick, wall_seconds):
    from sections import markdown_table, number

    base = rows[0]["parameters"]
    lines = ["## Translation architectures after the same CPU budget (transformer, t5, rnn)", ""]
    if quick:
        lines += ["**`--quick` run: tiny models and data. These numbers check that the code runs; they measure "
                  "nothing.**", ""]
    lines += [
        f"- date: {machine['date']}; machine: {machine['machine']}; {machine['versions']}",
        "- load average (1/5/15 min) at start: " + " / ".join(f"{v:.2f}" for v in machine["load"])
        + " (a shared machine: the budget is wall-clock time, so load lowers every contender's step count)",
        f"- budget: {budget:g} s of training per contender after its first (compiling) step; contenders one after "
        f"the other in one process; wall time {wall_seconds / 60:.1f} min",
        f"- data: {facts['train_pairs']} short Bible verse pairs en->es (batch {facts['common']['batch_size']}, "
        f"{facts['common']['max_length']} tokens, vocabulary {facts['vocabulary']}, "
        f"{facts['target_tokens']:.1f} real target tokens per pair); BLEU/chrF on {facts['test_pairs']} held-out "
        "verses, greedy",
        f"- command: `{machine['command']}`",
        "",
    ]
    header = ["architecture", "dimensions", "parameters", "vs transformer", "steps", "epochs", "train tokens/s",
              "peak lr", "last epoch's loss", "BLEU", "chrF"]
    table = []
    for row in rows:
        shape = describe(row["architecture"], row["dimensions"])
        table.append([row["architecture"], shape, row["parameters"], f"{row['parameters'] / base:.2f}x",
                      row["steps"], number(row["epochs"]), number(row["tokens_per_second"]),
                      number(row["peak_learning_rate"]), number(row["loss"]), number(row["bleu"]),
                      number(row["chrf"])])
    lines += [markdown_table(header, table), ""]
    lines += ["Samples (the first test verse): " + "; ".join(f"{row['architecture']}: \"{row['sample']}\""
                                                             for row in rows), ""]
    lines += ["Reproduce with the command above. One run each, no repeats: a point of BLEU is within noise.", ""]
    return "\n".join(lines)


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget-seconds", type=float, default=240.0, help="training seconds per contender")
    parser.add_argument("--quick", action="store_true", help="tiny models and data: checks the code runs")
    parser.add_argument("--out", default=str(HERE.parent / "APPLICATIONS.md"), help="the Markdown report")
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    from budget import machine_facts
    from sections import write_section

    machine = machine_facts()
    started = time.perf_counter()
    rows, facts = run(args.budget_seconds, quick=args.quick)
    text = render(rows, facts, machine, args.budget_seconds, args.quick, time.perf_counter() - started)
    write_section(args.out, SECTION, text)
    for row in rows:
        sys.stdout.write(f"{row['architecture']}: {row['parameters']} parameters, {row['steps']} steps, "
                         f"{row['tokens_per_second']:.0f} tokens/s, BLEU {row['bleu']:.2f}\n")
    sys.stdout.write(f"wrote {args.out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
