"""`keras-attn bench --quick`: the suite runs end to end and writes its report.

Tiny sizes; no timing is asserted (the numbers depend on the machine).
"""

import re

from applications import bench


def test_quick_suite_writes_results_table(tmp_path, capsys):
    out = tmp_path / "RESULTS.md"
    status = bench.main(["--only", "1,3,4", "--quick", "--repeats", "1", "--out", str(out)])
    assert status == 0
    text = out.read_text()
    assert "keras-attn bench --only 1,3,4 --quick" in text
    assert "Quick mode" in text
    rows = [line for line in text.splitlines() if re.match(r"\| [134] \|", line)]
    assert {row.split("|")[1].strip() for row in rows} == {"1", "3", "4"}
    for row in rows:
        cells = [cell.strip() for cell in row.split("|")[1:-1]]
        assert float(cells[3]) > 0 and float(cells[4]) > 0, row  # keras_attn and the other, measured
        assert cells[6].endswith("x"), row  # the ratio
    assert (tmp_path / "bench_1.png").is_file()
    assert "wrote" in capsys.readouterr().out


def test_cli_hands_its_flags_to_the_suite():
    import pytest

    from applications import cli

    with pytest.raises(SystemExit, match="unknown benchmark"):
        cli.main(["bench", "--only", "9"])
