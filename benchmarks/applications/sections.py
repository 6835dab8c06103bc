"""A benchmark's own section of a Markdown report, replaced in place on every run.

`run_applications.py` writes the head of `APPLICATIONS.md` (keeping the marked sections); the
translation benchmarks (`translation_architectures.py`, `attention_history.py`) each keep one
section between `<!-- begin NAME -->` and `<!-- end NAME -->` markers, appended the first time.
"""

from pathlib import Path


def write_section(path, name, markdown):
    """Put `markdown` between NAME's markers in `path` (created if missing); returns `path`."""
    path = Path(path)
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    block = f"{begin}\n{markdown.rstrip()}\n{end}\n"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        text = before + block + after
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + block
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def marked_sections(path):
    """Every `<!-- begin NAME -->...<!-- end NAME -->` block of `path`, in order ("" if none), so a
    report that rewrites the whole file can keep the sections other benchmarks own."""
    path = Path(path)
    if not path.exists():
        return ""
    blocks, text = [], path.read_text(encoding="utf-8")
    while "<!-- begin " in text:
        start = text.index("<!-- begin ")
        name = text[start + len("<!-- begin ") :].split(" -->", 1)[0]
        end = f"<!-- end {name} -->"
        if end not in text[start:]:
            break
        stop = text.index(end, start) + len(end)
        blocks.append(text[start:stop])
        text = text[stop:]
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def markdown_table(header, rows):
    """A Markdown table from a header and rows of cells."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def number(value, digits=3):
    """A short, readable number (as `run_applications.py` writes them)."""
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    if value != value:  # nan
        return "nan"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}g}" if abs(value) < 1 else f"{value:.{digits + 1}g}"
