"""Quality of each application after a fixed CPU time budget, next to a keras-hub twin.

    python benchmarks/applications/run_applications.py --budget-seconds 120 \
        [--only text,vision,speech] [--quick] [--out benchmarks/APPLICATIONS.md]

- text   (`text_bleu.py`): held-out BLEU/chrF, en->es Bible verses, ours vs keras-hub
         TransformerEncoder/TransformerDecoder of the same size, both decoded greedily
         with keras_attn.generation over a key/value cache;
- vision (`vision_accuracy.py`): Fashion-MNIST (shipped 3,000/1,000 subset) test accuracy
         and train images/s, ours vs keras_hub.models.ViTBackbone with the same head;
- speech (`speech_quality.py`): keyword accuracy on unseen (synthetic) voices, ours vs
         keras-hub's Whisper encoder behind the same front end and head; number-phrase CER/WER
         (ours only).

Every contender trains for `--budget-seconds` of wall-clock time, counted from the end of
its first (compiling) train step; see `budget.py` for the rules. Contenders run one after
the other in one process; the machine's load average is recorded because the budget is
wall-clock time. `--quick` uses tiny models and data subsets: it checks the code runs, its
numbers mean nothing.
"""

import argparse
import logging
import math
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

TASKS = {"text": "text_bleu", "vision": "vision_accuracy", "speech": "speech_quality"}
DEFAULT_BUDGET = 120.0


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget-seconds", type=float, default=DEFAULT_BUDGET,
                        help=f"training wall-clock seconds per contender (default {DEFAULT_BUDGET:g})")
    parser.add_argument("--only", default=",".join(TASKS), help="comma-separated tasks (default: all)")
    parser.add_argument("--quick", action="store_true", help="tiny models and data: checks the code runs")
    parser.add_argument("--out", default=str(HERE.parent / "APPLICATIONS.md"), help="the Markdown report")
    return parser


def _number(value, digits=3):
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan"
    if isinstance(value, int):
        return str(value)
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}g}" if abs(value) < 1 else f"{value:.{digits + 1}g}"


def _steps(contender):
    if not contender:
        return "-"
    epochs = contender.get("epochs")
    return f"{contender['steps']} ({epochs:.1f} ep)" if epochs is not None else str(contender["steps"])


def _contenders_of(task, details, row):
    """`(ours, theirs)` training summaries behind a result row."""
    if task == "speech":
        group = details["keywords"] if "keyword" in row["metric"] else details["numbers"]
    else:
        group = details
    return group.get("keras_attn"), group.get("keras_hub")


def render(rows_by_task, details_by_task, facts, budget, quick, durations):
    lines = ["# Application quality after a fixed CPU time budget", ""]
    if quick:
        lines += ["**`--quick` run: tiny models, data subsets, training without XLA. These numbers check that the code runs; "
                  "they measure nothing.**", ""]
    lines += [
        f"- date: {facts['date']}",
        f"- machine: {facts['machine']}",
        f"- software: {facts['versions']}",
        "- load average (1/5/15 min) at start: " + " / ".join(f"{v:.2f}" for v in facts["load"])
        + "; at end: " + " / ".join(f"{v:.2f}" for v in facts["load_end"])
        + " (the machine may be shared: the budget is wall-clock time, so load lowers every contender's step count)",
        f"- budget: {budget:g} s of training per contender, counted from the end of its first train step "
        "(tracing, XLA compilation and that step are excluded and listed as 'first step'); contenders run one "
        "after the other in one process",
        f"- command: `{facts['command']}`",
        "- wall time per task: " + ", ".join(f"{task} {seconds / 60:.1f} min" for task, seconds in durations.items()),
        "",
        "| task | metric | ours (keras_attn) | keras-hub twin | better | steps reached: ours | steps reached: twin "
        "| evaluated on |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task, rows in rows_by_task.items():
        for row in rows:
            ours, theirs = _contenders_of(task, details_by_task[task], row)
            lines.append(
                f"| {task} | {row['metric']} | {_number(row['ours'])} | {_number(row['theirs'])} | {row['better']} "
                f"| {_steps(ours)} | {_steps(theirs)} | {row['evaluated']} |"
            )
    lines += ["", "## Training runs", "",
              "| task | contender | parameters | steps | epochs | steps/s | first step (s) | last epoch's train loss |",
              "|---|---|---|---|---|---|---|---|"]
    for task, details in details_by_task.items():
        groups = details.items() if task == "speech" else [("", details)]
        for group, contenders in groups:
            for name, c in contenders.items():
                label = f"{task} {group}".strip()
                lines.append(
                    f"| {label} | {name} | {c['parameters']} | {c['steps']} | {_number(c.get('epochs'))} "
                    f"| {_number(c['steps_per_second'])} | {_number(c['first_step_seconds'])} | {_number(c['loss'])} |"
                )
    lines += ["", "## Settings", ""]
    for task, rows in rows_by_task.items():
        for setting in dict.fromkeys(row["setting"] for row in rows):
            lines.append(f"- {task}: {setting}")
    lines += [
        "", "## What is compared", "",
        "Each task's module docstring (`benchmarks/applications/*.py`) lists exactly what the two contenders share "
        "and where they differ. In short: same data pipeline (the applications' own), same sizes, same optimizer "
        "and schedule, same head, same training loop (`keras_attn.training.TrainingRun.fit`, XLA, epoch-end "
        "checkpoints, no validation), same evaluation code; only the attention/Transformer layers differ. "
        "Warm-up + cosine schedules (vision, speech) are planned over the time budget rather than a step count "
        "(`budget.BudgetCosineSchedule`); the text model keeps the applications' step-based warm-up / "
        "inverse-square-root schedule (no horizon) with a fixed warm-up.",
        "",
        "Caveats: one run per contender (no repeats), so a few tenths of BLEU or a point of accuracy is within "
        "noise from seeds and step counts; the speech is synthetic (espeak-ng); the vision data is the shipped "
        "3,000/1,000 subset of Fashion-MNIST, not the full set.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    selected = [task.strip() for task in args.only.split(",") if task.strip()]
    unknown = sorted(set(selected) - set(TASKS))
    if unknown:
        raise SystemExit(f"run_applications: unknown task(s) {unknown}; choose from {sorted(TASKS)}")
    if not args.budget_seconds > 0:
        raise SystemExit(f"run_applications: --budget-seconds must be positive. Received: {args.budget_seconds}")

    import importlib

    from budget import machine_facts

    facts = machine_facts()
    if argv is not None:
        facts["command"] = " ".join(["python benchmarks/applications/run_applications.py", *argv])
    rows_by_task, details_by_task, durations = {}, {}, {}
    for task in selected:
        module = importlib.import_module(TASKS[task])
        started = time.perf_counter()
        rows_by_task[task], details_by_task[task] = module.run(args.budget_seconds, quick=args.quick)
        durations[task] = time.perf_counter() - started
    facts["load_end"] = os.getloadavg()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from sections import marked_sections

    kept = marked_sections(out)  # the sections the translation benchmarks own
    report = render(rows_by_task, details_by_task, facts, args.budget_seconds, args.quick, durations)
    out.write_text(report + ("\n" + kept if kept else ""), encoding="utf-8")
    for task, rows in rows_by_task.items():
        for row in rows:
            sys.stdout.write(f"{task}: {row['metric']}: ours {_number(row['ours'])}, twin {_number(row['theirs'])}\n")
    sys.stdout.write(f"wrote {out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
