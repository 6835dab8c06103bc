"""The `keras-attn` command.

    keras-attn text|vision|speech <subcommand> ...   (each application adds its own)
    keras-attn demo [--only text,vision,speech] [--out DIR]
    keras-attn bench [...]

Each application package exposes `cli.add_parser(subparsers)` (its
subcommands, each setting `func`) and `demo.run_demo(out_dir) -> dict` (a
small end-to-end run on the shipped data, returning its headline numbers).
Logs go to stderr; stdout carries only results.
"""

import argparse
import contextlib
import importlib
import logging
import os
import sys

DOMAINS = ("text", "vision", "speech")


def _available_domains():
    """Applications whose package provides a command line."""
    found = []
    for name in DOMAINS:
        try:
            importlib.import_module(f"applications.{name}.cli")
        except ModuleNotFoundError as error:
            if error.name != f"applications.{name}.cli" and error.name != f"applications.{name}":
                raise
            continue
        found.append(name)
    return found


def _run_demo(args):
    domains = args.only.split(",") if args.only else _available_domains()
    unknown = sorted(set(domains) - set(DOMAINS))
    if unknown:
        raise SystemExit(f"keras-attn demo: unknown application(s) {unknown}; choose from {list(DOMAINS)}")
    results = {}
    for name in domains:
        demo = importlib.import_module(f"applications.{name}.demo")
        out_dir = os.path.join(args.out, name)
        logging.getLogger("keras_attn").info("demo: %s -> %s", name, out_dir)
        with contextlib.redirect_stdout(sys.stderr):  # progress bars and logs; stdout gets the results
            results[name] = demo.run_demo(out_dir)
    print("\nkeras-attn demo results")
    for name, numbers in results.items():
        summary = ", ".join(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}" for key, value in numbers.items())
        print(f"  {name}: {summary}")
    return 0


def _run_bench(args):
    bench = importlib.import_module("applications.bench")
    return bench.main(args.bench_args)


def build_parser():
    parser = argparse.ArgumentParser(prog="keras-attn", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in _available_domains():
        importlib.import_module(f"applications.{name}.cli").add_parser(subparsers)
    demo = subparsers.add_parser("demo", help="train and evaluate small models on the shipped data")
    demo.add_argument("--only", help="comma-separated subset of: " + ",".join(DOMAINS))
    demo.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    demo.set_defaults(func=_run_demo)
    bench = subparsers.add_parser("bench", help="run benchmarks/ (see benchmarks/README.md)")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    bench.set_defaults(func=_run_bench)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    bench_args = None
    commands = [arg for arg in argv if not arg.startswith("-")]
    if commands[:1] == ["bench"]:
        # argparse.REMAINDER drops leading --flags; the suite parses its own arguments.
        split = argv.index("bench") + 1
        argv, bench_args = argv[:split], argv[split:]
    args = build_parser().parse_args(argv)
    if bench_args is not None:
        args.bench_args = bench_args
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s: %(message)s",
    )
    from keras_attn.training import CheckpointMismatchError
    from keras_attn.training import NonFiniteLossError

    try:
        return args.func(args) or 0
    except (OSError, ValueError) as error:  # bad input: a file, a folder, an argument
        if args.verbose:
            raise
        logging.getLogger("keras_attn").error("%s", error)
        return 2
    except (NonFiniteLossError, CheckpointMismatchError) as error:  # training stopped
        if args.verbose:
            raise
        logging.getLogger("keras_attn").error("%s", error)
        return 1


if __name__ == "__main__":
    sys.exit(main())
