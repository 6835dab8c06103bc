"""GPT, character level: nanoGPT's CPU recipe, `keras-attn gpt train` vs a keras-hub stack.

    python benchmarks/applications/gpt_char.py [--repeats 2] [--steps 2000] [--quick] [--out FILE]

Data: the first 1,115,394 characters of the shipped English Bible text
(`applications.datasets.bible_english_text`, one verse a line; the size of nanoGPT's
tiny-Shakespeare file), the last 10 % held out for validation by `gpt train` itself, one
token per character (67 characters, plus padding and unknown ids).

The recipe (nanoGPT's `train_shakespeare_char.py` CPU settings): 4 layers, 4 heads, width
128, context 64, batch 12, 2,000 steps, AdamW with a peak learning rate of 1e-3 after 100
linear warm-up steps and cosine decay to 1e-4, beta_2 0.99, weight decay 0.1, gradient
clipping at norm 1, no dropout. These are `keras-attn gpt train`'s defaults, so the command
this benchmark runs is `keras-attn gpt train --data FILE --out DIR --max-steps 2000`.

Contenders, one after the other in one process, interleaved (A B B A ...):

- `keras_attn`: `applications.cli.main(["gpt", "train", ...])`, the command's own code path;
- `keras_hub`: the same task, data pipeline, optimizer, loss, `TrainingRun.fit` loop,
  progress bar, checkpoints and validation (`applications.skeleton.training.train` with the GPT task),
  with the model replaced by `keras_hub.layers.TokenAndPositionEmbedding` (tied) + 4
  `keras_hub.layers.TransformerDecoder` (pre-norm, GELU, epsilon 1e-5) + a final
  `LayerNormalization` and the tied reverse projection: a same-size keras-hub stack.

Reported per run: the validation loss after the last step (the mean cross-entropy of every
validation token, `score_text`), the whole run's wall time (tracing and XLA compilation,
both epoch-end validations, checkpoints every 100 steps and the final scoring included) and
its tokens/s (`steps x 12 x 64 / wall time`), the process's CPU seconds, and the steady
training tokens/s (from step 200 to the end of the first epoch, from a clock read at every
batch end: the rate of the training steps alone). The published
reference is nanoGPT's own run of this recipe on this text as quoted in the issue (PyTorch 2,
CPU, `--compile=False`): validation loss 1.561 at step 2,000 in 194 s (~7,900 tokens/s,
evaluations included); nanoGPT is not installed here, so it is quoted, not rerun.
"""

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LOG = logging.getLogger("keras_attn.bench.gpt")
CHARACTERS = 1_115_394  # the size of nanoGPT's tiny-Shakespeare text
SECTION = "gpt-char"  # its section of APPLICATIONS.md (benchmarks/applications/sections.py)
NANOGPT = {"val_loss": 1.561, "seconds": 194.0, "tokens_per_second": 7900}
QUICK_FLAGS = ["--num-layers", "1", "--hidden-dim", "32", "--num-heads", "2", "--intermediate-dim", "64",
               "--sequence-length", "16", "--batch-size", "4"]


def write_corpus(path, characters):
    from applications import datasets

    text = datasets.bible_english_text()[:characters]
    Path(path).write_text(text, encoding="utf-8")
    return len(text), len(set(text))


class StepClock:
    """Wall time at every batch end and the optimizer's step then (a Keras callback), for the
    steady rate; with several steps per call a batch end comes once per call."""

    def __init__(self):
        import keras

        clock = self

        class Callback(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                clock.epoch = epoch

            def on_train_batch_end(self, batch, logs=None):
                if clock.epoch == 0:  # the first epoch: no validation in between
                    clock.marks.append((time.perf_counter(), int(self.model.optimizer.iterations.numpy())))

        self.marks, self.epoch, self.callback = [], 0, Callback()

    def steady_seconds_per_step(self, skip=200):
        marks = [mark for mark in self.marks if mark[1] >= skip] or self.marks[len(self.marks) // 2 :]
        if len(marks) < 2 or marks[-1][1] == marks[0][1]:
            return float("nan")
        return (marks[-1][0] - marks[0][0]) / (marks[-1][1] - marks[0][1])


def _keras_hub_task():
    """The GPT task with its model replaced by a same-size keras-hub stack (everything else shared)."""
    from applications.text.gpt.task import CausalLanguageModelTask

    class KerasHubStackTask(CausalLanguageModelTask):
        def build_model(self, settings, data, init):
            import keras
            import keras_hub

            config = self.config(settings, data)
            token_ids = keras.Input((None,), dtype="int32", name="token_ids")
            embedding = keras_hub.layers.TokenAndPositionEmbedding(
                config.vocabulary_size, config.sequence_length, config.hidden_dim, tie_weights=True, name="embedding")
            x = embedding(token_ids)
            for index in range(config.num_layers):
                x = keras_hub.layers.TransformerDecoder(
                    config.intermediate_dim, config.num_heads, normalize_first=True, layer_norm_epsilon=1e-5,
                    activation="gelu", name=f"decoder_{index}")(x)
            x = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
            logits = embedding.token_embedding(x, reverse=True)
            return keras.Model(token_ids, logits, name="keras_hub_gpt")

    return KerasHubStackTask()


def _spy_fit(clock):
    """Add the step clock to `TrainingRun.fit` (both contenders train through it)."""
    from keras_attn.training import TrainingRun

    original = TrainingRun.fit

    def fit(self, *args, callbacks=(), **kwargs):
        return original(self, *args, callbacks=(*callbacks, clock.callback), **kwargs)

    TrainingRun.fit = fit
    return lambda: setattr(TrainingRun, "fit", original)


def run_contender(name, data, out, steps, quick):
    """One training run; returns its numbers. `name@N` trains with N steps per call of the
    compiled step instead of the task's `steps_per_execution` (before/after comparisons)."""
    import io

    from applications.text.gpt.task import CausalLanguageModelTask

    name, _, per_call = name.partition("@")
    task_default = CausalLanguageModelTask.steps_per_execution
    if per_call:
        CausalLanguageModelTask.steps_per_execution = int(per_call)
    clock = StepClock()
    restore = _spy_fit(clock)
    flags = ["--data", str(data), "--out", str(out), "--max-steps", str(steps), "--strategy", "default", "--json",
             *(QUICK_FLAGS if quick else [])]
    started, cpu = time.perf_counter(), time.process_time()
    try:
        if name == "keras_attn":
            from applications import cli

            stdout = io.StringIO()
            real, sys.stdout = sys.stdout, stdout
            try:
                code = cli.main(["gpt", "train", *flags])
            finally:
                sys.stdout = real
            if code != 0:
                raise RuntimeError(f"keras-attn gpt train exited {code}")
            summary = json.loads(stdout.getvalue().strip().splitlines()[-1])
        else:
            from applications.skeleton.settings import resolve_settings
            from applications.skeleton.training import train

            task = _keras_hub_task()
            settings = {"data": str(data), "out": str(out), "max_steps": steps, "strategy": "default"}  # verbose "auto", as the command
            if quick:
                settings.update(num_layers=1, hidden_dim=32, num_heads=2, intermediate_dim=64, sequence_length=16,
                                batch_size=4)
            summary = train(task, resolve_settings(task, **settings), command_line=["gpt_char.py", name])
    finally:
        restore()
        CausalLanguageModelTask.steps_per_execution = task_default
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    batch, length = (4, 16) if quick else (12, 64)
    tokens = summary["steps"] * batch * length
    steady = clock.steady_seconds_per_step()
    return {"contender": name + (f"@{per_call}" if per_call else ""), "val_loss": summary["val_loss"], "val_bits_per_character":
            summary["val_bits_per_character"], "steps": summary["steps"], "wall_seconds": wall, "cpu_seconds": cpu,
            "tokens_per_second": tokens / wall, "steady_tokens_per_second": batch * length / steady,
            "parameters": summary["num_parameters"], "load": os.getloadavg()}


def run(repeats=2, steps=2000, quick=False, work_dir=None, contenders=("keras_attn", "keras_hub")):
    work = Path(work_dir or tempfile.mkdtemp(prefix="gpt_char_"))
    data = work / "bible_en_1115394.txt"
    characters, distinct = write_corpus(data, 20_000 if quick else CHARACTERS)
    LOG.info("%d characters (%d distinct) in %s", characters, distinct, data)
    order = []
    for index in range(repeats):
        order += list(contenders) if index % 2 == 0 else list(reversed(contenders))
    runs = []
    for number, name in enumerate(order):
        result = run_contender(name, data, work / f"{name.replace('@', '_')}_{number}", steps, quick)
        LOG.info("%s", json.dumps(result))
        runs.append(result)
    return {"characters": characters, "distinct": distinct, "steps": steps, "runs": runs}


def _median(runs, name, key):
    values = [run[key] for run in runs if run["contender"] == name]
    return statistics.median(values), min(values), max(values)


def render(results, facts, command):
    runs = results["runs"]
    lines = [
        "## GPT, character level: nanoGPT's CPU recipe", "",
        f"- date: {facts['date']}; machine: {facts['machine']}; software: {facts['versions']}",
        f"- command: `{command}`",
        f"- data: the first {results['characters']:,} characters of the shipped English Bible text "
        f"({results['distinct']} distinct), last 10 % held out; {results['steps']} steps of 12 x 64 characters",
        "- the recipe (`keras-attn gpt train`'s defaults): 4 layers, 4 heads, width 128, context 64, batch 12, AdamW "
        "1e-3 -> 1e-4 cosine, 100 warm-up steps, beta_2 0.99, weight decay 0.1, clip 1.0, no dropout",
        f"- {len(runs) // len(set(run['contender'] for run in runs))} run(s) per contender, interleaved; medians, [min-max]. Wall time and tokens/s cover "
        "the whole run: tracing and XLA compilation, two epoch-end validations, checkpoints every 100 steps and "
        "the final exact validation scoring",
        "",
        "| contender | validation loss | bits/char | wall s | tokens/s (whole run) | steady tokens/s | CPU s |",
        "|---|---|---|---|---|---|---|",
        f"| nanoGPT (quoted, PyTorch 2 CPU, not rerun) | {NANOGPT['val_loss']} | - | {NANOGPT['seconds']:.0f} | "
        f"~{NANOGPT['tokens_per_second']:,} | - | - |",
    ]
    for name in dict.fromkeys(run["contender"] for run in runs):
        cells = []
        for key, digits in (("val_loss", 3), ("val_bits_per_character", 3), ("wall_seconds", 0),
                            ("tokens_per_second", 0), ("steady_tokens_per_second", 0), ("cpu_seconds", 0)):
            median, low, high = _median(runs, name, key)
            cells.append(f"{median:.{digits}f} [{low:.{digits}f}-{high:.{digits}f}]")
        base, _, per_call = name.partition("@")
        label = "`keras-attn gpt train`" if base == "keras_attn" else "keras-hub TransformerDecoder stack"
        label += f" (steps_per_execution {per_call})" if per_call else ""
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "Runs in order (load average 1/5/15 min at the end of each):", ""]
    for run in runs:
        lines.append(f"- {run['contender']}: val loss {run['val_loss']:.4f}, {run['wall_seconds']:.0f} s wall, "
                     f"{run['tokens_per_second']:.0f} tokens/s, steady {run['steady_tokens_per_second']:.0f} "
                     f"tokens/s, {run['cpu_seconds']:.0f} CPU s, load "
                     + " / ".join(f"{value:.1f}" for value in run["load"]))
    return "\n".join(lines) + "\n"


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=2, help="runs per contender (default 2)")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="a tiny model for a few steps: checks the code runs")
    parser.add_argument("--out", help="write the Markdown section into this report (its `gpt-char` section, "
                        "benchmarks/applications/sections.py); e.g. benchmarks/APPLICATIONS.md")
    parser.add_argument("--json", help="also write the raw results here")
    parser.add_argument("--contenders", default="keras_attn,keras_hub",
                        help="comma-separated; NAME@N trains with N steps per call (e.g. keras_attn@1: before)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from common import machine_facts

    facts = machine_facts()
    facts = {"date": facts["date"], "machine": f"{facts['cpu']}, {facts['cpus']} cores",
             "versions": f"Python {facts['python']}, TensorFlow {facts['tensorflow']}, Keras {facts['keras']}"}
    results = run(args.repeats, 10 if args.quick and args.steps == 2000 else args.steps, args.quick,
                  contenders=args.contenders.split(","))
    command = "python benchmarks/applications/gpt_char.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = render(results, facts, command.strip())
    print(text)
    if args.out:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from sections import write_section

        write_section(args.out, SECTION, text)
        print(f"wrote {args.out}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
