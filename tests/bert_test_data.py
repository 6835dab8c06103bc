"""What the BERT tests share (tests/applications/text/bert): tiny sizes, a synthetic keyword
task and a command-line runner. Fixtures are in that folder's conftest.py."""

import json
import random

from applications import cli

TINY = ["--size", "nano", "--num-layers", "1", "--hidden-dim", "32", "--num-heads", "2",
        "--intermediate-dim", "64", "--sequence-length", "24", "--batch-size", "16", "--checkpoint-every", "0", "--no-xla"]
KEYWORDS = {"alpha": "first", "beta": "second", "gamma": "third"}
FILLERS = "the light of day and night over water land tree stone river bread house fire cloud".split()


def keyword_lines(count, seed):
    """`text<TAB>label` lines: six filler words and one keyword at a random place; the keyword
    decides the label (chance: one in three)."""
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        keyword = rng.choice(sorted(KEYWORDS))
        words = [rng.choice(FILLERS) for _ in range(6)]
        words.insert(rng.randrange(7), keyword)
        lines.append(f"{' '.join(words)}\t{KEYWORDS[keyword]}")
    return lines


def run_cli(capsys, *argv):
    """`keras-attn ARGV --json`: the parsed JSON result (exit status 0 asserted)."""
    code = cli.main([*argv, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-3000:]
    return json.loads(captured.out)
