"""Run the keras_attn benchmark suite and write RESULTS.md and charts.

    keras-attn bench [--only 1,2,3] [--quick] [--repeats N] [--out benchmarks/RESULTS.md]
    python benchmarks/run.py ...            (the same, from a checkout)

Benchmarks (see each module's docstring):
    1 attention_step   MHA training step vs keras.layers.MultiHeadAttention
    2 encoder_step     encoder block training step vs keras_hub TransformerEncoder
    3 peak_memory      forward-pass peak RSS: dense, chunked, keras MHA
    4 decoding         cached greedy decoding vs recompute and vs keras_hub
    5 vision           ViT training images/s vs keras_hub ViTBackbone
    6 speech           speech encoder audio-seconds/s vs keras_hub Whisper encoder

`--quick` runs tiny sizes (a smoke test of the code, not a measurement).
"""

import argparse
import importlib
import logging
import os
import shlex
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

MODULES = {
    "1": "attention_step",
    "2": "encoder_step",
    "3": "peak_memory",
    "4": "decoding",
    "5": "vision",
    "6": "speech",
}


def build_parser():
    parser = argparse.ArgumentParser(prog="keras-attn bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(MODULES), help="comma-separated benchmark numbers (default: all)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check that the suite runs")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds per contender (default 7, quick 2)")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"), help="the Markdown report (charts go beside it)")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite --out from the results.json beside it (after editing analysis.md)")
    return parser


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    selected = [number.strip() for number in args.only.split(",") if number.strip()]
    unknown = sorted(set(selected) - set(MODULES))
    if unknown:
        raise SystemExit(f"keras-attn bench: unknown benchmark(s) {unknown}; choose from {sorted(MODULES)}")
    if args.repeats is not None and args.repeats < 1:
        raise SystemExit(f"keras-attn bench: --repeats must be >= 1. Received: --repeats={args.repeats}")
    repeats = args.repeats or (2 if args.quick else 7)

    import report
    from common import machine_facts

    if args.render:
        report.render(args.out)
        sys.stdout.write(f"wrote {args.out}\n")
        return 0

    facts = machine_facts()
    command = "keras-attn bench " + " ".join(shlex.quote(arg) for arg in (argv if argv is not None else sys.argv[1:]))
    results, skipped, durations = [], {}, {}
    for number in selected:
        module = importlib.import_module(MODULES[number])
        started = time.perf_counter()
        outcome = module.run(quick=args.quick, repeats=repeats)
        durations[number] = time.perf_counter() - started
        if isinstance(outcome, str):  # a reason the benchmark could not run
            skipped[number] = outcome
        else:
            results.extend(outcome)
    if args.quick:  # tiny sizes say nothing about the targets
        for result in results:
            result["target"] = None
    facts["load_end"] = os.getloadavg()
    out = Path(args.out)
    report.save(out, results, facts, command, skipped, durations, quick=args.quick)
    sys.stdout.write(report.summary(results, skipped) + f"\nwrote {out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
