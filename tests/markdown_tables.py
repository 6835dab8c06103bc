"""`table_rows`: the cells of a Markdown table in a benchmark report, for the benchmark smoke tests."""


def table_rows(text, first_header_cell):
    """Rows (lists of stripped cells) of the first Markdown table in `text` whose header starts
    with `| first_header_cell |`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header_cell} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.split("|")[1:-1]])
    return rows
