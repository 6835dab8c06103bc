"""`benchmarks/gpu.py --smoke` on the CPU (JAX backend): it runs end to end
without TensorFlow (its import is blocked in the process) and writes the GPU
section of a RESULTS.md. Nothing about the numbers is asserted."""

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu.py"
# Runs gpu.py as __main__ in a process where `import tensorflow` fails, then
# checks that no TensorFlow module was loaded.
WRAPPER = """
import runpy, sys
sys.modules["tensorflow"] = None  # as on a machine without TensorFlow
sys.argv = [sys.argv[1], "--smoke", "--out", sys.argv[2]]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as exit:
    assert not exit.code, exit.code
loaded = [name for name in sys.modules if name.split(".")[0] == "tensorflow" and sys.modules[name] is not None]
assert not loaded, loaded
print("no tensorflow")
"""


def test_smoke_run_writes_the_gpu_section_without_tensorflow(tmp_path):
    out = tmp_path / "RESULTS.md"
    out.write_text("# keras_attn benchmarks\n\n## GPU\n\nPending.\n\n## Analysis\n\nkept\n")
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", WRAPPER, str(SCRIPT), str(out)], env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "no tensorflow" in result.stdout
    text = out.read_text()
    assert "Smoke mode" in text and "Pending." not in text and text.endswith("## Analysis\n\nkept\n")
    rows = [line for line in text.splitlines() if line.startswith(("| causal |", "| bidirectional |"))]
    assert len(rows) == 2, rows
    for row in rows:
        assert float(row.split("|")[3]) > 0, row  # keras_attn was timed
    record = json.loads((tmp_path / "gpu_results.json").read_text())
    assert {row["route"] for row in record["rows"]}  # the kernel keras_attn took is recorded
