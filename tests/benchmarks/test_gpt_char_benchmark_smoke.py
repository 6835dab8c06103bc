"""`benchmarks/applications/gpt_char.py --quick`: both contenders (`keras-attn gpt train` and the
keras-hub stack through the same task) train a tiny model for 10 steps and the section is written.

Nothing about the values is asserted (they mean nothing at this size): only that every number
was produced and is finite, and that the section keeps the rest of the report.
"""

import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "applications" / "gpt_char.py"


def test_quick_run_writes_its_section(tmp_path):
    out = tmp_path / "APPLICATIONS.md"
    out.write_text("# Application quality\n\nother tasks' tables\n", encoding="utf-8")
    completed = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--repeats", "1", "--out", str(out)],
                               cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Application quality") and "other tasks' tables" in text
    assert "<!-- begin gpt-char -->" in text and "--quick" in text and "load " in text
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in text.splitlines()
            if line.startswith("| ") and "contender" not in line and "nanoGPT" not in line]
    assert [row[0] for row in rows] == ["`keras-attn gpt train`", "keras-hub TransformerDecoder stack"]
    for row in rows:
        for cell in (row[1], row[2], row[3], row[4]):  # loss, bits/char, wall s, tokens/s: medians
            assert math.isfinite(float(cell.split()[0])), row
