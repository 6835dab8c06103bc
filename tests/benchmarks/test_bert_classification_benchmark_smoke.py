"""`benchmarks/applications/bert_classification.py --quick`: pretraining, the three fine-tuned
contenders and the TF-IDF baseline run end to end and write their section.

Tiny models without XLA, 1-second budgets, data subsets. Nothing about the values is asserted
(they mean nothing at this size): only that each number was produced and is finite, and that
the section replaces its earlier version instead of being appended twice.
"""

import importlib.util
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


def test_section_is_replaced_not_appended(tmp_path):
    spec = importlib.util.spec_from_file_location("bert_classification", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(SCRIPT.parent))
    spec.loader.exec_module(module)
    out = tmp_path / "APPLICATIONS.md"
    out.write_text("# Title\n\nbefore\n", encoding="utf-8")
    for number in (1, 2):
        module.write_section(out, f"{module.START}\n## BERT run {number}\n{module.END}\n")
    text = out.read_text(encoding="utf-8")
    assert text.count(module.START) == 1 and "run 2" in text and "run 1" not in text and "before" in text
