"""`translation_architectures.py --quick` and `attention_history.py --quick`: each runs end to end,
writes its own section of the report (kept when the other writes) and its charts.

Tiny models, a 1-second budget, data subsets: nothing about the values is asserted, only
that each was produced and is finite.
"""

import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "benchmarks" / "applications"


def _run(script, out, *extra):
    completed = subprocess.run([sys.executable, str(SCRIPTS / script), "--quick", "--budget-seconds", "1", "--out",
                                str(out), *extra], cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert f"wrote {out}" in completed.stdout


def _rows(text, first_header_cell):
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header_cell} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.split("|")[1:-1]])
    return rows


def _finite(cell):
    return math.isfinite(float(cell.split()[0].rstrip("x")))


def test_both_translation_benchmarks_write_their_sections(tmp_path):
    out = tmp_path / "APPLICATIONS.md"
    out.write_text("# Application quality\n\nthe head run_applications.py writes\n", encoding="utf-8")
    _run("translation_architectures.py", out)
    _run("attention_history.py", out, "--pictures", str(tmp_path))
    _run("translation_architectures.py", out)  # replaces its section, keeps the others
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Application quality") and text.count("<!-- begin translation-architectures -->") == 1
    assert text.count("<!-- begin attention-history -->") == 1 and "--quick" in text

    architectures = _rows(text, "architecture")
    assert [row[0] for row in architectures] == ["transformer", "t5", "rnn"]
    for row in architectures:
        assert int(row[2]) > 0 and int(row[4]) > 1, row  # parameters, steps
        assert all(_finite(cell) for cell in row[5:]), row

    speed = _rows(text, "tokens (source = target)")
    assert speed and all(_finite(cell) for row in speed for cell in row), speed
    copy = _rows(text, "length")
    assert copy and all(_finite(cell) for row in copy for cell in row[1:]), copy
    for name in ("attention_history_speed.png", "attention_history_copy.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
