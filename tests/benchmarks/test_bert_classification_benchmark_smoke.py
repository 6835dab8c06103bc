"""`benchmarks/applications/bert_classification.py --quick`: pretraining, the three fine-tuned
contenders and the TF-IDF baseline run end to end and write their section.

Tiny models without XLA, 1-second budgets, data subsets. Nothing about the values is asserted
(they mean nothing at this size): only that each number was produced and is finite, and that
the section replaces its earlier version instead of being appended twice.
"""

import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "applications" / "bert_classification.py"


def test_quick_run_writes_its_section(tmp_path):
    out = tmp_path / "APPLICATIONS.md"
    out.write_text("# Application quality\n\nother tasks' tables\n", encoding="utf-8")
    completed = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--pretrain-seconds", "1",
                                "--budget-seconds", "1", "--out", str(out)],
                               cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert f"wrote {out}" in completed.stdout
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Application quality") and "other tasks' tables" in text
    assert "--quick" in text and "load average" in text
    rows = [line.split("|")[1:-1] for line in text.splitlines() if line.startswith("| ") and "contender" not in line]
    assert [row[0].strip() for row in rows] == [
        "fine-tuned from the pretrained encoder", "from scratch", "from scratch, same total time",
        "TF-IDF + logistic regression (scikit-learn)"]
    for row in rows:
        assert 0.0 <= float(row[1]) <= 1.0 and math.isfinite(float(row[2])), row
