"""`keras-attn bench`: run the benchmark suite in the repository's `benchmarks/`.

The suite lives beside the package in a source checkout (it compares against
keras and keras-hub and writes `benchmarks/RESULTS.md`), so this launcher
finds `benchmarks/run.py` relative to this file and runs it:

    keras-attn bench --only 1,2,3 --quick --repeats 5 --out benchmarks/RESULTS.md

See `benchmarks/run.py --help` for the flags.
"""

import runpy
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def main(argv=None):
    """Run `benchmarks/run.py` with `argv`; returns its exit status."""
    runner = BENCHMARKS / "run.py"
    if not runner.is_file():
        raise SystemExit(
            f"keras-attn bench: no benchmark suite at {BENCHMARKS}. The benchmarks ship with the "
            "source repository, not the installed package: clone it and install it with "
            "`pip install -e .`, then run `keras-attn bench` from there."
        )
    suite = runpy.run_path(str(runner), run_name="keras_attn_bench")
    return suite["main"](list(argv or []))
