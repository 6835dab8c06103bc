"""`benchmarks/applications/run_applications.py --quick`: every task runs end to end and
writes a table of numbers.

Tiny models, a 1-second budget, data subsets. Nothing about the values is asserted
(they depend on the machine and mean nothing at this size): only that each metric
was produced and is finite, for ours and for the keras-hub twin where there is one.
"""

import math
import subprocess
import sys
from pathlib import Path

from markdown_tables import table_rows

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "benchmarks" / "applications" / "run_applications.py"


def test_quick_run_writes_a_table_of_finite_numbers(tmp_path):
    out = tmp_path / "APPLICATIONS.md"
    completed = subprocess.run(
        [sys.executable, str(RUNNER), "--quick", "--budget-seconds", "1", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert f"wrote {out}" in completed.stdout
    text = out.read_text(encoding="utf-8")
    assert "--quick" in text and "load average" in text and "budget: 1 s" in text

    results = table_rows(text, "task")
    metrics = {(row[0], row[1]): row for row in results}
    expected_twins = {
        ("text", "BLEU (sacrebleu corpus)"): True,
        ("text", "chrF"): True,
        ("vision", "test accuracy"): True,
        ("vision", "train images/s"): True,
        ("speech", "keyword accuracy, unseen voices"): True,
        ("speech", "numbers CER"): False,
        ("speech", "numbers WER"): False,
    }
    assert set(metrics) == set(expected_twins)
    for key, has_twin in expected_twins.items():
        row = metrics[key]
        assert math.isfinite(float(row[2])), row  # ours
        if has_twin:
            assert math.isfinite(float(row[3])), row  # the keras-hub twin
            assert row[6] != "-", row  # its steps
        else:
            assert row[3] == "-", row
        assert int(row[5].split()[0]) > 0, row  # ours trained some steps

    runs = table_rows(text, "task | contender")
    assert {(row[0], row[1]) for row in runs} == {
        ("text", "keras_attn"), ("text", "keras_hub"), ("vision", "keras_attn"), ("vision", "keras_hub"),
        ("speech keywords", "keras_attn"), ("speech keywords", "keras_hub"), ("speech numbers", "keras_attn"),
    }
    for row in runs:
        assert int(row[2]) > 0 and int(row[3]) > 1, row  # parameters, steps
        assert all(math.isfinite(float(cell)) for cell in row[4:]), row


def test_unknown_task_is_refused(tmp_path):
    completed = subprocess.run(
        [sys.executable, str(RUNNER), "--only", "music", "--out", str(tmp_path / "x.md")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode != 0
    assert "unknown task" in completed.stderr
