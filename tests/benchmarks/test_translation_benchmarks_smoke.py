"""`translation_architectures.py --quick` and `attention_history.py --quick`: each runs end to end
and writes its section of the report and its charts; a section is replaced in place.

Tiny models, a 1-second budget, data subsets: nothing about the values is asserted, only
that each was produced and is finite.
"""

import math
import subprocess
import sys
from pathlib import Path

from markdown_tables import table_rows

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "benchmarks" / "applications"


def _start(script, out, *extra):
    return subprocess.Popen([sys.executable, str(SCRIPTS / script), "--quick", "--budget-seconds", "1", "--out",
                             str(out), *extra], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process, out):
    stdout, stderr = process.communicate(timeout=400)
    assert process.returncode == 0, stderr[-3000:]
    assert f"wrote {out}" in stdout
    return out.read_text(encoding="utf-8")


def _finite(cell):
    return math.isfinite(float(cell.split()[0].rstrip("x")))


def test_both_translation_benchmarks_run_and_write_their_sections(tmp_path):
    # The two run side by side (2 cores), each into its own report.
    architectures_out, history_out = tmp_path / "architectures.md", tmp_path / "history.md"
    architectures = _start("translation_architectures.py", architectures_out)
    history = _start("attention_history.py", history_out, "--pictures", str(tmp_path))
    text = _finish(architectures, architectures_out) + _finish(history, history_out)
    assert text.count("<!-- begin translation-architectures -->") == 1 and "--quick" in text
    assert text.count("<!-- begin attention-history -->") == 1

    rows = table_rows(text, "architecture")
    assert [row[0] for row in rows] == ["transformer", "t5", "rnn"]
    for row in rows:
        assert int(row[2]) > 0 and int(row[4]) > 1, row  # parameters, steps
        assert all(_finite(cell) for cell in row[5:]), row
    speed = table_rows(text, "tokens (source = target)")
    assert speed and all(_finite(cell) for row in speed for cell in row), speed
    copy = table_rows(text, "length")
    assert copy and all(_finite(cell) for row in copy for cell in row[1:]), copy
    for name in ("attention_history_speed.png", "attention_history_copy.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_a_section_is_replaced_in_place_and_the_rest_kept(tmp_path):
    sys.path.insert(0, str(SCRIPTS))
    try:
        from sections import write_section
    finally:
        sys.path.remove(str(SCRIPTS))
    out = tmp_path / "APPLICATIONS.md"
    out.write_text("# Head\n\nwritten by run_applications.py\n", encoding="utf-8")
    write_section(out, "a", "## A\n\nfirst")
    write_section(out, "b", "## B")
    write_section(out, "a", "## A\n\nsecond")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Head\n\nwritten by run_applications.py\n")
    assert text.count("<!-- begin a -->") == 1 and "second" in text and "first" not in text
    assert text.index("## A") < text.index("## B")


def test_a_whole_report_rewrite_keeps_the_marked_sections(tmp_path):
    sys.path.insert(0, str(SCRIPTS))
    try:
        from sections import marked_sections, write_section
    finally:
        sys.path.remove(str(SCRIPTS))
    out = tmp_path / "APPLICATIONS.md"
    write_section(out, "a", "## A")
    write_section(out, "b", "## B")
    out.write_text("# New head\n\n" + marked_sections(out), encoding="utf-8")  # as run_applications.py does
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# New head") and "## A" in text and "## B" in text
    assert marked_sections(tmp_path / "missing.md") == ""
