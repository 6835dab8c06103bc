"""The README's Python examples run as written (```python blocks; ```py blocks show code that
needs the reader's own files), and every `keras-attn` command in it parses."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})


def test_readme_commands_parse():
    import shlex

    from applications.cli import build_parser

    parser = build_parser()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S):
        for line in block.splitlines():
            line = line.split("|")[-1].strip()  # `echo ... | keras-attn ...`
            if line.startswith("keras-attn "):
                words = shlex.split(line, comments=True)[1:]
                redirect = next((i for i, word in enumerate(words) if word in ("<", ">", "2>")), len(words))
                commands.append(words[:redirect])  # `... < prompts.txt`, `... > summary.json`
    assert len(commands) > 10
    for argv in commands:
        args = parser.parse_args(argv)
        assert callable(args.func), argv
