"""The `keras-attn` command.

    keras-attn text|gpt|bert|vision|speech <sub-command> ...   (each family registers its own)
    keras-attn demo [--only text,vision,...] [--out DIR]
    keras-attn bench [...]
    keras-attn --version

Every sub-command returns its result and this runner prints it: stdout carries only results
(one JSON document with `--json`), logs and Keras' progress bars go to stderr. A problem the
user can fix (a file, a line, a flag, a class) is one line on stderr and exit status 2; a
training run stopped by a NaN loss or a checkpoint that does not fit exits 1; Ctrl-C or
SIGTERM prints where the run stopped and exits 130 / 143. `-v` keeps tracebacks and
TensorFlow's start-up lines. The help screens import no TensorFlow.
"""

import argparse
import contextlib
import importlib
import logging
import os
import sys
import time

from applications.skeleton import registry
from applications.skeleton.console import handle_termination, import_tensorflow_quietly, quiet_startup
from applications.skeleton.errors import RunInterrupted
from applications.skeleton.results import print_result
from applications.skeleton.run_folder import library_version

logger = logging.getLogger("keras_attn")
DEMO_FAMILIES = ("text", "vision", "speech", "gpt", "bert")
_DEMO_MODULES = {
    "text": "applications.text.translation.demo",
    "gpt": "applications.text.gpt.demo",
    "bert": "applications.text.bert.demo",
    "vision": "applications.vision.demo",
    "speech": "applications.speech.demo",
}
_TRAINING_STOPS = ("NonFiniteLossError", "CheckpointMismatchError")


def _run_demo(args):
    available = [name for name in DEMO_FAMILIES if _module_exists(_DEMO_MODULES[name])]
    families = args.only.split(",") if args.only else available
    unknown = sorted(set(families) - set(available))
    if unknown:
        raise ValueError(f"keras-attn demo --only: unknown part(s) {unknown}; choose from {available}")
    results = {}
    for name in families:
        demo = importlib.import_module(_DEMO_MODULES[name])
        out_dir = os.path.join(args.out, name)
        logger.info("demo: %s -> %s", name, out_dir)
        start = time.time()
        results[name] = dict(demo.run_demo(out_dir), seconds=round(time.time() - start, 1))
    return results


def _demo_text(results):
    lines = ["keras-attn demo results"]
    for name, numbers in results.items():
        summary = ", ".join(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
                            for key, value in numbers.items())
        lines.append(f"  {name}: {summary}")
    return lines


def _module_exists(name):
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _run_bench(args):
    bench = importlib.import_module("applications.bench")
    code = bench.main(args.bench_args)
    if code:
        raise SystemExit(code)


def build_parser():
    parser = argparse.ArgumentParser(prog="keras-attn", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="debug logging, tracebacks and TensorFlow's own messages on stderr")
    parser.add_argument("--version", action="version", version=f"keras-attn {library_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in registry.family_modules().values():
        module.register(subparsers)
    demo = subparsers.add_parser("demo", help="train and evaluate small models of every family on the shipped data")
    demo.add_argument("--only", help="comma-separated subset of: " + ",".join(DEMO_FAMILIES))
    demo.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    demo.add_argument("--json", action="store_true", help="print the results as one JSON document")
    demo.set_defaults(func=_run_demo, text=_demo_text)
    bench = subparsers.add_parser("bench", help="run benchmarks/ (see benchmarks/README.md)")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    bench.set_defaults(func=_run_bench)
    return parser


def _split_bench(argv):
    """`keras-attn bench --quick`: argparse.REMAINDER drops leading flags; keep them whole."""
    commands = [arg for arg in argv if not arg.startswith("-")]
    if commands[:1] != ["bench"]:
        return argv, None
    split = argv.index("bench") + 1
    return argv[:split], argv[split:]


def _configure_logging(verbose):
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s: %(message)s" if verbose else "%(levelname)s: %(message)s",
    )
    if not verbose:
        for name in ("absl", "tensorflow", "h5py", "matplotlib", "PIL", "numba", "jax"):
            logging.getLogger(name).setLevel(logging.ERROR)


def _stopped_message(error, args):
    name = getattr(error, "signal_name", "SIGINT")
    out = getattr(args, "out", None) if getattr(args, "func", None) and hasattr(args, "epochs") else None
    if out and os.path.isdir(out):
        from applications.skeleton.run_folder import RunFolder

        folder = RunFolder(out)
        if folder.status() == "resumable":
            return f"Stopped by {name}: {folder.describe_unfinished()}"
    return f"Stopped by {name}."


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    verbose = "-v" in argv or "--verbose" in argv  # before parsing: quiet TensorFlow before it loads
    quiet_startup(verbose)
    argv, bench_args = _split_bench(argv)
    args = build_parser().parse_args(argv)
    if bench_args is not None:
        args.bench_args = bench_args
    _configure_logging(args.verbose)
    if not args.verbose:
        import_tensorflow_quietly()  # after parsing: --help never imports TensorFlow
    handle_termination()
    stdout = sys.stdout
    args.stdout = stdout  # a command that streams (gpt generate) writes here
    try:
        with contextlib.redirect_stdout(sys.stderr):  # progress bars and prints: stdout is for results
            result = args.func(args)
        print_result(result, as_json=getattr(args, "json", False), stream=stdout, text=getattr(args, "text", None))
        return 0
    except (KeyboardInterrupt, RunInterrupted) as error:
        if args.verbose:
            raise
        sys.stderr.write("\n")  # a progress bar may be mid-line
        logger.error("%s", _stopped_message(error, args))
        return 143 if getattr(error, "signal_name", "") == "SIGTERM" else 130
    except (OSError, ValueError) as error:  # bad input: a file, a folder, a flag, a class
        if args.verbose:
            raise
        logger.error("%s", _one_line(error))
        return 2
    except Exception as error:
        if type(error).__name__ not in _TRAINING_STOPS or args.verbose:
            raise
        logger.error("%s", _one_line(error))
        return 1


def _one_line(error):
    text = str(error).strip() or type(error).__name__
    return " ".join(text.split("\n")) if len(text) < 2000 else text.splitlines()[0]


if __name__ == "__main__":
    sys.exit(main())
